"""An ArgumentParser whose bad-option message is one line (exit 2), for the project's entry points."""

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)

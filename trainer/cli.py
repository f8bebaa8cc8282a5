"""argparse for the trainer's small tools, with the house rule for errors: a bad option is one line
on stderr and exit status 2 (argparse's own error prints the whole usage first)."""

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)

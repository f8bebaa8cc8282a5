"""Stage families, one per module; each is an Annotator and/or a Gate wrapped by stages.base."""

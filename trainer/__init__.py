"""The GPT trainer that streams the pipeline's token shards (see the trainer issue)."""

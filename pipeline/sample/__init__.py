"""Built-in sample corpus: the build script and the generated gzip JSONL files."""

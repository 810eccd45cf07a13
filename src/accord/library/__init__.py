"""The machinery behind the public API in `accord`: private, use `accord`'s names."""

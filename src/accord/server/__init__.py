"""The HTTP server: a FastAPI app over the library, live events over SSE, and the built UI."""

"""Finding passages: vectors (Chroma and the encoder), BM25, hybrid retrieval, the single-writer lock."""

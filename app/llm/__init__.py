"""Chat models: the provider factory, llama.cpp and OpenAI-compatible classes, the model queue, prompt files."""

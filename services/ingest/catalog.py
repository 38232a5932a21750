"""The default catalog `verdicts feeds seed` loads: real sources where new AI tools and models appear."""

from __future__ import annotations

from services.core.domain import SourceKind

HUB_API = "https://huggingface.co/api/models?author="

BLOGS: tuple[tuple[str, str], ...] = (
    ("https://huggingface.co/blog/feed.xml", "Hugging Face blog"),
    ("https://openai.com/news/rss.xml", "OpenAI news"),
    ("https://blog.google/technology/ai/rss/", "Google AI blog"),
    ("https://deepmind.google/blog/rss.xml", "Google DeepMind blog"),
    ("https://engineering.fb.com/category/ai-research/feed/", "Meta engineering: AI research"),
    ("https://blogs.nvidia.com/feed/", "NVIDIA blog"),
    ("https://www.microsoft.com/en-us/research/feed/", "Microsoft Research blog"),
    ("https://aws.amazon.com/blogs/machine-learning/feed/", "AWS Machine Learning blog"),
)

GITHUB_REPOSITORIES: tuple[str, ...] = (
    "ollama/ollama",
    "vllm-project/vllm",
    "huggingface/transformers",
    "ggml-org/llama.cpp",
    "langchain-ai/langchain",
    "anthropics/anthropic-sdk-python",
    "openai/openai-python",
    "anthropics/claude-code",
    "modelcontextprotocol/servers",
    "mistralai/client-python",
    "pytorch/pytorch",
    "sgl-project/sglang",
    "astral-sh/ty",
)

HUB_AUTHORS: tuple[str, ...] = ("meta-llama", "mistralai", "google", "microsoft", "Qwen", "deepseek-ai")


def default_catalog() -> list[tuple[str, SourceKind, str]]:
    """(url, kind, title) of every default source."""
    rows = [(url, SourceKind.FEED, title) for url, title in BLOGS]
    rows += [(f"https://github.com/{repo}/releases.atom", SourceKind.GITHUB_RELEASES, f"{repo} releases")
             for repo in GITHUB_REPOSITORIES]
    rows += [(HUB_API + author, SourceKind.HF_MODELS, f"Hugging Face models by {author}") for author in HUB_AUTHORS]
    return rows

"""The labeled set bench/detect.py scores against: entries as they arrive from real kinds of sources.

Written for this project (names of products are made up or generic, shapes follow what vendors,
GitHub, the Hub and status pages publish). Each case: source, title, link, summary, and the label —
``tool`` is the expected tool (same value = same tool seen in several places), None for noise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    source: str
    kind: str
    title: str
    link: str
    summary: str = ""
    tool: str | None = None  # None: not a new tool, model or release


def gh(repo: str, tag: str, tool: str | None = None, title: str | None = None) -> Case:
    return Case(f"https://github.com/{repo}/releases.atom", "github-releases", title or tag,
                f"https://github.com/{repo}/releases/tag/{tag}", "<p>Changelog</p>", tool or repo)


def hubm(repo: str, tool: str | None = None) -> Case:
    author = repo.split("/")[0]
    return Case(f"https://huggingface.co/api/models?author={author}", "hf-models", repo,
                f"https://huggingface.co/{repo}", "text-generation · transformers", tool or repo)


def post(source: str, title: str, link: str, summary: str = "", tool: str | None = None) -> Case:
    return Case(source, "feed", title, link, summary, tool)


VENDOR = "https://news.acme-ai.example/rss.xml"
HFBLOG = "https://huggingface.co/blog/feed.xml"
LABS = "https://blog.quanta-labs.example/feed/"
CLOUD = "https://aws.example/blogs/machine-learning/feed/"
STATUS = "https://status.acme-ai.example/history.rss"
ESSAYS = "https://someone.example/index.xml"
NEWS = "https://tech-news.example/ai/rss"
CHANGES = "https://docs.devtool.example/changelog/feed.json"

CASES: tuple[Case, ...] = (
    # GitHub releases: stable and pre-release tags of several repositories
    gh("ollama/ollama", "v0.33.0"), gh("ollama/ollama", "v0.33.1-rc0"), gh("ollama/ollama", "v0.33.1"),
    gh("vllm-project/vllm", "v0.29.0rc1"), gh("vllm-project/vllm", "v0.29.0"),
    gh("acme-ai/nimbus", "v2.0.0", "nimbus"), gh("acme-ai/nimbus", "v2.0.1", "nimbus"),
    gh("quanta-labs/qflow", "v1.0.0", "qflow"), gh("mistralai/client-python", "v2.10.0", title="python - v2.10.0 - 2026-11-20"),
    gh("modelcontextprotocol/servers", "2026.11.20", title="Release 2026.11.20"),
    gh("huggingface/transformers", "v5.3.0"), gh("ggml-org/llama.cpp", "b7123"),
    gh("astral-sh/ty", "0.0.2-alpha.1"), gh("python/cpython", "v3.15.0b3"),
    # Hub models of watched authors
    hubm("acme-ai/Nimbus-2-8B", "nimbus-8b"), hubm("acme-ai/Nimbus-2-70B-Instruct"), hubm("Qwen/Qwen4-14B"),
    hubm("deepseek-ai/DeepSeek-V5-Lite"), hubm("mistralai/Mistral-Small-4-2611"), hubm("google/gemma-4-9b-it"),
    hubm("meta-llama/Llama-5-Scout-17B"), hubm("microsoft/Phi-5-mini"),
    # Vendor blog launches (some linking to their repository or model card)
    post(VENDOR, "Introducing Nimbus 2: fast local inference", "https://acme-ai.example/blog/nimbus-2?utm_source=rss",
         "<a href='https://github.com/acme-ai/nimbus'>code</a> and "
         "<a href='https://huggingface.co/acme-ai/Nimbus-2-8B'>weights</a>", "nimbus"),
    post(VENDOR, "Nimbus Studio is now available to everyone", "https://acme-ai.example/blog/studio-ga", "", "nimbus-studio"),
    post(VENDOR, "Acme launches Orbit Serve 3.1", "https://acme-ai.example/blog/orbit-serve", "", "orbit-serve-31"),
    post(VENDOR, "How we cut our GPU bill in half", "https://acme-ai.example/blog/gpu-bill"),
    post(VENDOR, "Acme partners with Globex on sovereign AI", "https://acme-ai.example/blog/globex"),
    post(VENDOR, "Customer story: how Initech ships faster with Nimbus", "https://acme-ai.example/blog/initech"),
    post(LABS, "Announcing QFlow 1.0", "https://blog.quanta-labs.example/qflow-1",
         "<a href='https://github.com/quanta-labs/qflow'>GitHub</a>", "qflow"),
    post(LABS, "Meet Quanta Coder 2, our open coding model", "https://blog.quanta-labs.example/coder-2",
         "Weights: <a href='https://huggingface.co/quanta-labs/Quanta-Coder-2'>hub</a>", "quanta-coder-2"),
    post(LABS, "Quanta Labs is hiring research engineers", "https://blog.quanta-labs.example/jobs"),
    post(LABS, "Lessons from a year of evals", "https://blog.quanta-labs.example/evals"),
    post(LABS, "Unveiling Lumen Vision 1.5", "https://blog.quanta-labs.example/lumen-1-5", "", "lumen-vision-15"),
    post(LABS, "Our research paper on sparse attention", "https://blog.quanta-labs.example/sparse"),
    # The Hugging Face blog: launches of others' models (cross-source) and tutorials
    post(HFBLOG, "Welcome Nimbus 2 to the Hub", "https://huggingface.co/blog/nimbus-2",
         "<a href='https://huggingface.co/acme-ai/Nimbus-2-8B'>model</a>", "nimbus"),
    post(HFBLOG, "Welcoming Quanta Coder 2 on Hugging Face", "https://huggingface.co/blog/quanta-coder-2", "",
         "quanta-coder-2"),
    post(HFBLOG, "Fine-tune any model with TRL: a guide", "https://huggingface.co/blog/trl-guide"),
    post(HFBLOG, "State of open models: autumn 2026", "https://huggingface.co/blog/state-autumn"),
    post(HFBLOG, "Introducing SmolAgents 2", "https://huggingface.co/blog/smolagents-2",
         "<a href='https://github.com/huggingface/smolagents'>repo</a>", "smolagents-2"),
    post(HFBLOG, "Up to 3x faster inference with speculative decoding", "https://huggingface.co/blog/specdec"),
    # A cloud blog: availability announcements and how-tos
    post(CLOUD, "Orbit Serve 3.1 is now available on SageMaker", "https://aws.example/blogs/ml/orbit-serve-31",
         "", "orbit-serve-31"),
    post(CLOUD, "Build a RAG pipeline with Bedrock Knowledge Bases", "https://aws.example/blogs/ml/rag-kb"),
    post(CLOUD, "Lumen Vision 1.5 now available in Bedrock", "https://aws.example/blogs/ml/lumen", "", "lumen-vision-15"),
    post(CLOUD, "Webinar: scaling inference on Inferentia", "https://aws.example/blogs/ml/webinar"),
    # Status pages: incidents name products but are no releases
    post(STATUS, "Elevated errors on requests to Nimbus 2", "https://status.acme-ai.example/i/1"),
    post(STATUS, "Degraded performance for Orbit Serve", "https://status.acme-ai.example/i/2"),
    post(STATUS, "Resolved: API latency in eu-west", "https://status.acme-ai.example/i/3"),
    post(STATUS, "Scheduled maintenance for the console", "https://status.acme-ai.example/i/4"),
    # Essays and newsletters
    post(ESSAYS, "Why agents need memory", "https://someone.example/posts/memory"),
    post(ESSAYS, "Scaling laws, carefully", "https://someone.example/posts/scaling"),
    post(NEWS, "Gemini 4 Flash vs Nimbus 2: which is cheaper?", "https://tech-news.example/ai/vs"),
    post(NEWS, "The week in AI: three launches and an outage", "https://tech-news.example/ai/week-48"),
    post(NEWS, "Globex releases Helix 1, an open speech model", "https://tech-news.example/ai/helix",
         "<a href='https://huggingface.co/globex/Helix-1'>card</a>", "helix-1"),
    post(NEWS, "OpenLab open-sources Rover, a robotics toolkit", "https://tech-news.example/ai/rover",
         "<a href='https://github.com/openlab/rover'>source</a>", "rover"),
    post(NEWS, "Interview: the people behind Quanta Labs", "https://tech-news.example/ai/interview"),
    post(NEWS, "Regulators delay the AI Act's next phase", "https://tech-news.example/ai/act"),
    # A JSON Feed changelog of a developer tool: features shipping, and routine notes
    Case(CHANGES, "json-feed", "Introducing Devtool Agents", "https://docs.devtool.example/changelog/agents", "",
         "devtool-agents"),
    Case(CHANGES, "json-feed", "Bug fixes and performance improvements", "https://docs.devtool.example/changelog/fixes"),
    Case(CHANGES, "json-feed", "Pricing update for teams", "https://docs.devtool.example/changelog/pricing"),
    Case(CHANGES, "json-feed", "Devtool CLI 4.0 is here", "https://docs.devtool.example/changelog/cli-4", "",
         "devtool-cli-4"),
    # Harder cases, added after the detector was written and left as they score (no tuning on them)
    hubm("quanta-labs/Quanta-Coder-2", "quanta-coder-2"),
    post(VENDOR, "Introducing Nimbus 2 Mini", "https://acme-ai.example/blog/nimbus-2-mini", "", "nimbus-2-mini"),
    post(VENDOR, "Nimbus 2.1: what's new", "https://acme-ai.example/blog/nimbus-2-1", "", "nimbus-21"),
    post(VENDOR, "Nimbus 2 is down for some users", "https://acme-ai.example/blog/nimbus-down"),
    post(LABS, "Robotics 2 brings whole-body control to humanoids", "https://blog.quanta-labs.example/robotics-2", "",
         "robotics-2"),
    post(LABS, "We're launching a new fellowship program", "https://blog.quanta-labs.example/fellowship"),
    post(LABS, "Introducing our new Chief Scientist", "https://blog.quanta-labs.example/chief-scientist"),
    post(NEWS, "DeepSeek V5 Lite: open weights and a 1M context", "https://tech-news.example/ai/dsv5",
         "<a href='https://huggingface.co/deepseek-ai/DeepSeek-V5-Lite'>weights</a>", "deepseek-ai/DeepSeek-V5-Lite"),
    post(CLOUD, "Lumen-Vision 1.5 lands in Vertex AI", "https://aws.example/blogs/ml/lumen-vertex", "",
         "lumen-vision-15"),
    post(CLOUD, "How to deploy Orbit Serve 3.1 on Kubernetes", "https://aws.example/blogs/ml/orbit-k8s"),
    post(NEWS, "Acme releases its annual transparency report", "https://tech-news.example/ai/transparency"),
)

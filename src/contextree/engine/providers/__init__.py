"""LLM providers behind one async interface: `local` (offline, built in) and remote ones.

`base` defines the contract (one request in, one markdown response or a `ProviderError`);
`openai_provider` and `anthropic_provider` speak the two wire formats through their SDKs;
`local/` writes deterministic frames from the source itself, with no model and no network.
"""

"""The detector: is an entry a new tool, model or release, which tools does it name, and why.

- ``keys``: canonical keys (Unicode-aware names, URLs without tracking parameters);
- ``versions``: release versions and pre-releases (SemVer, PEP 440, keywords);
- ``names``: the tool names a title announces (several per entry when it names several);
- ``signals``: the hand-written rule signals, each in words an editor can check;
- ``features``: rule signals plus word and character n-grams, the model's input;
- ``model``: the trained artefact (``model.json``), loaded once per process, scored with a dot product;
- ``training``: fitting that artefact with scikit-learn (``verdicts detect train``);
- ``corpus``: the labelled corpus (``labels/``) over the captured feeds and our own.
"""

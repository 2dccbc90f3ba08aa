"""The docs stay a user's guide, and their links resolve.

README.md and docs/*.md are what a user reads: kept under a size budget so measurements
go to experiments/ instead. Every relative link in them, in experiments/ and in the
bundled models' cards must point at a file that exists (and a heading, for #anchors)."""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER_DOCS_LIMIT = 51_000  # Bytes, README.md and docs/*.md together: about 50 KB, as a user reads them.
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def user_docs():
    return [os.path.join(ROOT, "README.md"), *sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))]


def linked_docs():
    return [*user_docs(), *glob.glob(os.path.join(ROOT, "CONTRIBUTING.md")),
            *sorted(glob.glob(os.path.join(ROOT, "experiments", "*.md"))),
            *sorted(glob.glob(os.path.join(ROOT, "groove_vae", "bundled", "*", "MODEL_CARD.md")))]


def anchors(path):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", open(path, encoding="utf-8").read(), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def broken_links(path):
    text = re.sub(r"```.*?```", "", open(path, encoding="utf-8").read(), flags=re.S)
    broken = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline.
        file_part, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(resolved):
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            broken.append(f"{target} (no such heading)")
    return broken


def test_user_docs_fit_the_budget():
    sizes = {os.path.relpath(p, ROOT): os.path.getsize(p) for p in user_docs()}
    total = sum(sizes.values())
    assert total <= USER_DOCS_LIMIT, (
        f"README.md and docs/*.md are {total} bytes, over {USER_DOCS_LIMIT}: move measurements to a dated "
        f"experiments/ page. Largest: {sorted(sizes.items(), key=lambda kv: -kv[1])[:3]}")


def test_every_bundled_model_has_a_card():
    models = [d for d in glob.glob(os.path.join(ROOT, "groove_vae", "bundled", "*")) if os.path.isdir(d)
              and os.path.exists(os.path.join(d, "config.json"))]
    assert models
    missing = [os.path.basename(d) for d in models if not os.path.exists(os.path.join(d, "MODEL_CARD.md"))]
    assert not missing, f"bundled models without a MODEL_CARD.md: {missing}"


def test_every_relative_link_resolves():
    broken = {os.path.relpath(p, ROOT): b for p in linked_docs() if (b := broken_links(p))}
    assert not broken, broken


def test_the_link_checker_catches_a_missing_file_and_heading(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\n## The prior\n\n[ok](a.md#the-prior) [x](b.md) [y](#nope)\n")
    assert broken_links(str(tmp_path / "a.md")) == ["b.md (no such file)", "#nope (no such heading)"]


if __name__ == "__main__":
    for p in user_docs():
        print(f"{os.path.getsize(p):7d}  {os.path.relpath(p, ROOT)}")
    print(f"{sum(os.path.getsize(p) for p in user_docs()):7d}  total (limit {USER_DOCS_LIMIT})")
    for p in linked_docs():
        for b in broken_links(p):
            print("broken:", os.path.relpath(p, ROOT), b)

"""The offline stand-ins are cached per transformers major version: files written by
transformers 5 (LeRobot 0.6) are never handed to transformers 4 (LeRobot 0.4.4) on the same machine."""

from policybench.policies import offline_vlm


def test_each_transformers_major_version_gets_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYBENCH_CACHE", str(tmp_path))
    writes = []

    def write(folder):
        writes.append(folder.name)
        (folder / "tokenizer.json").write_text("{}")

    monkeypatch.setattr(offline_vlm, "writer_key", lambda: "transformers5")
    five = offline_vlm._cached_folder("stand-in", write)
    assert offline_vlm._cached_folder("stand-in", write) == five and len(writes) == 1  # reused
    monkeypatch.setattr(offline_vlm, "writer_key", lambda: "transformers4")
    four = offline_vlm._cached_folder("stand-in", write)
    assert four != five and len(writes) == 2
    assert five.name.endswith("-transformers5") and four.name.endswith("-transformers4")


def test_the_writer_key_names_the_installed_transformers():
    import transformers

    assert offline_vlm.writer_key() == f"transformers{transformers.__version__.split('.')[0]}"

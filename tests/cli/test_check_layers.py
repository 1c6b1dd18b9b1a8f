"""scripts/check_layers.sh, the include-order check that CI runs before the
build: it passes on this tree, and its self-test (small temporary trees with
one planted violation each: an upward include, a door included by a layer,
a Torch header in base/ or graph/, directly or through a header of ours,
and one reached from a CUDA source) catches every violation, naming
FILE:LINE."""
import subprocess

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "check_layers.sh"


def test_the_tree_follows_the_layer_order():
    proc = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every include follows the layer order" in proc.stdout


def test_the_self_test_catches_every_planted_violation():
    proc = subprocess.run([str(SCRIPT), "--self-test"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check_layers self-test: ok" in proc.stdout


def test_a_violation_fails_naming_file_and_line(tmp_path):
    for layer in ("base", "kernels", "graph", "samplers", "models", "train"):
        (tmp_path / layer).mkdir()
    (tmp_path / "graph" / "splits.cpp").write_text(
        '#include "graph/splits.h"\n#include "samplers/random.h"\n')
    proc = subprocess.run([str(SCRIPT), str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "graph/splits.cpp:2: includes samplers/random.h: samplers/ is above graph/" in proc.stdout

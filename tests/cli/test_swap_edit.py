"""`facerecon swap` and `facerecon edit` on synthetic photos with exact position maps."""

import numpy as np
import pytest
from PIL import Image

from facerecon.api import FaceReconstructor
from facerecon.cli import reconstruct
from facerecon.cli.main import main
from facerecon.data.synthetic import render_synthetic_face
from facerecon.imageio import read_image
from facerecon.topology import load_topology
from facerecon.types import Detection


@pytest.fixture(scope="module")
def scenes():
    topology = load_topology(256)
    source = render_synthetic_face(topology, yaw=-20, position=(200, 170), seed=1)
    target = render_synthetic_face(topology, yaw=25, pitch=5, position=(260, 190), seed=2)
    # A differently coloured source: its texture statistics must reach the target.
    tinted = source.image.copy()
    tinted[source.face_mask] = (tinted[source.face_mask] * [0.6, 0.9, 1.3]).clip(0, 255)
    return topology, source, target, tinted


class BoxOf:
    name = "landmarks"

    def __init__(self, scenes_by_shape):
        self.scenes = scenes_by_shape

    def detect(self, image):
        for scene in self.scenes:
            if image.shape == scene.image.shape and np.array_equal(image, scene.image):
                return [Detection(box=scene.box)]
        return []


@pytest.fixture
def files(tmp_path, monkeypatch, scenes, make_oracle):
    topology, source, target, tinted = scenes
    Image.fromarray(tinted).save(tmp_path / "source.png")
    Image.fromarray(target.image).save(tmp_path / "target.png")
    Image.fromarray(np.full((80, 80, 3), 90, np.uint8)).save(tmp_path / "blank.png")
    source_scene = type(source)(**{**source.__dict__, "image": tinted})
    detector = BoxOf([source_scene, target])
    oracle = make_oracle(topology, [source.vertices, target.vertices])
    monkeypatch.setattr(reconstruct, "build_reconstructor",
                        lambda args: FaceReconstructor(model=oracle, detector=detector))
    return tmp_path


def test_swap_moves_the_source_colours_into_the_target_face(files, scenes):
    _, source, target, tinted = scenes
    out = files / "swapped.png"
    # Pasted without colour matching, so the colours themselves can be compared.
    assert main(["swap", str(files / "source.png"), str(files / "target.png"), "-o", str(out),
                 "--color-match", "none", "--blend", "paste"]) == 0
    swapped = read_image(out).astype(float)
    changed = np.abs(swapped - target.image).sum(axis=2) > 0
    assert changed.sum() > 0.5 * target.face_mask.sum()
    assert not changed[~target.face_mask].any()
    inner = changed
    source_ratio = tinted[source.face_mask].mean(0) / source.image[source.face_mask].mean(0)
    result_ratio = swapped[inner].mean(0) / target.image[inner].mean(0)
    # The two faces are lit differently (yaw -20 vs +25), so compare the tint, not brightness.
    np.testing.assert_allclose(result_ratio / result_ratio.mean(),
                               source_ratio / source_ratio.mean(), atol=0.03)


def test_edit_from_a_photo_changes_only_the_eye_region(files, scenes):
    _, _, target, _ = scenes
    out = files / "edited.png"
    assert main(["edit", str(files / "target.png"), "--region", "eyes", "--from",
                 str(files / "source.png"), "-o", str(out)]) == 0
    edited = read_image(out)
    changed = np.abs(edited.astype(int) - target.image).sum(axis=2) > 0
    assert changed.any()
    eyes = target.landmarks[36:48, :2]
    ys, xs = np.nonzero(changed)
    assert xs.min() > eyes[:, 0].min() - 25 and xs.max() < eyes[:, 0].max() + 25
    assert ys.min() > eyes[:, 1].min() - 25 and ys.max() < eyes[:, 1].max() + 25


def test_source_without_face_is_a_clear_error(files, capsys):
    code = main(["swap", str(files / "blank.png"), str(files / "target.png"), "-o",
                 str(files / "x.png")])
    assert code == 1
    assert "blank.png: no face found" in capsys.readouterr().err
    assert not (files / "x.png").exists()

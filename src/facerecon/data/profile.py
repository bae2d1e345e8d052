"""Large-pose synthesis (the 300W-LP idea): a fitted photo becomes a textured 3D scene that
is turned to new head poses and re-rendered, each view with its exact position map.

The scene (:func:`build_scene`) lives in a "scene crop" of the photo: ``SCENE_SCALE`` times
the landmark box, ``SCENE_SIZE`` pixels, so the crops of turned views (1.7 landmark boxes,
:mod:`facerecon.crop`) stay inside it. It has two surfaces:

- the **face**: the dense grid mesh of the ``texture_topology`` position map (UV pixels as
  vertices, :attr:`UVTopology.triangles`), coloured by the photo's UV texture. Texels the
  photo does not show (self-occluded, or seen at a grazing angle) are filled from the
  mirrored texel (the UV layout is left-right symmetric: column c <-> R - 1 - c), and where
  both sides are hidden by a smooth fill from the
  surrounding texels; the photo's own texel keeps the weight of its
  visibility, so nothing changes where the photo shows the face well.
- the **background**: a ``GRID`` x ``GRID`` mesh over the whole scene crop, textured with the
  photo. Its depth is the face's visible depth (pushed back by ``FACE_GAP`` so the face mesh
  wins the z test) where the face is, and elsewhere the depth of the nearest face pixel
  blended towards the head centre's depth with distance. The turn is applied to it with an
  angle that falls off with the distance from the face (Gaussian, ``FALLOFF`` landmark-box
  sides), so hair, ears and neck follow the head while the far background stays in place
  instead of sweeping round (the "anchors" of 3DDFA's face profiling, made smooth).

:func:`render_view` turns the scene about the head centre (a point about the ear canals,
:data:`HEAD_CENTRE_ICT`) by ``Q = R_target @ R_photo^T``, so the head's new pose is exactly
``R_target = rotation_from_euler(yaw, pitch, roll of the photo)``: for a yaw change alone
the axis is the head's own vertical axis. The view is cropped with the pipeline's recipe on
the turned landmarks and rasterised once with the z-buffer (face and background together).
The position map encodes the turned region vertices, so it holds the hidden side exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facerecon.apps.pose import euler_from_rotation, rotation_from_euler
from facerecon.crop import crop_from_box, crop_from_landmarks
from facerecon.data.groundtruth import FittedPhoto, Sample, uv_texture, visibility_tolerance
from facerecon.errors import InvalidInputError
from facerecon.morphable.fit import FLIP_Y
from facerecon.posmap import encode
from facerecon.render import Raster, rasterize, vertex_normals, vertex_visibility
from facerecon.topology import UVTopology

SCENE_SCALE = 2.6  # scene crop side / landmark-box side (the view crops use 1.7)
SCENE_SIZE = 416  # scene crop pixels: 160 per landmark-box side (a 256 crop at 1.7: 151)
GRID = 48  # background mesh nodes per side
SMOOTHING = 1.5  # Gaussian sigma (grid nodes) of the background depth
FACE_GAP = 0.02  # background pushed behind the face by this fraction of the box side
FALLOFF = 0.6  # background turn falls off as exp(-(d / (FALLOFF * side))^2)
#: Rotation centre in ICT coordinates (cm, +y up, +z to the viewer): behind the cheeks, at
#: about the height and depth of the ear canals.
HEAD_CENTRE_ICT = np.array([0.0, 1.0, -1.0])
_FACING_LOW, _FACING_HIGH = 0.15, 0.45  # normal z below LOW: texel not trusted; above HIGH: fully


@dataclass(frozen=True, eq=False)
class Scene:
    """A fitted photo as a textured 3D scene, in scene-crop pixels (x right, y down, z
    larger nearer; z scaled like x, y by the crop).

    Attributes:
        image: (P, P, 3) uint8 the photo warped into the scene crop (P = SCENE_SIZE).
        region_vertices: (V, 3) float64 ICT face-region vertices.
        face_vertices: (N, 3) float64 dense face mesh (valid texture-topology UV pixels).
        face_triangles: (T, 3) int32 over ``face_vertices``.
        face_colors: (N, 3) float32 RGB in [0, 1], hidden side filled.
        grid_vertices: (G*G, 3) float64 background mesh; x, y are also its texture
            coordinates in ``image``.
        grid_triangles: (K, 3) int32.
        grid_weight: (G*G,) float64 share of the head turn each background node follows.
        centre: (3,) float64 rotation centre.
        rotation: (3, 3) float64 the photo's head rotation (pose convention).
        roll: the photo's roll in degrees (kept by the views).
        texture: (R, R, 3) uint8 the filled UV texture (for pictures and checks).
    """

    image: np.ndarray
    region_vertices: np.ndarray
    face_vertices: np.ndarray
    face_triangles: np.ndarray
    face_colors: np.ndarray
    grid_vertices: np.ndarray
    grid_triangles: np.ndarray
    grid_weight: np.ndarray
    centre: np.ndarray
    rotation: np.ndarray
    roll: float
    texture: np.ndarray


def fill_hidden_texture(texture: np.ndarray, confidence: np.ndarray,
                        uv_mask: np.ndarray) -> np.ndarray:
    """Fill texels the photo does not show from their mirror image, then by inpainting.

    Args:
        texture: (R, R, 3) uint8 UV texture sampled from the photo.
        confidence: (R, R) float in [0, 1], how well the photo shows each texel.
        uv_mask: (R, R) bool valid texels.

    Returns:
        (R, R, 3) uint8: ``c * texture + (1 - c) * fallback`` where the fallback is the
        mirrored texel where that one is shown (confidence > 0.5), else a smooth fill
        (:func:`_fill_holes`).
    """
    mirror_texture = texture[:, ::-1]
    mirror_confidence = confidence[:, ::-1] * uv_mask[:, ::-1]
    own = confidence > 0.5
    fallback = np.where(own[..., None], texture, mirror_texture)
    holes = (~own & (mirror_confidence <= 0.5)) | ~uv_mask
    fallback = _fill_holes(fallback, holes)
    weight = confidence[..., None].astype(np.float32)
    blended = weight * texture + (1.0 - weight) * fallback
    blended[~uv_mask] = 0
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _fill_holes(texture: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Fill ``holes`` by normalised convolution (blurred known colours / blurred known mask),
    from fine to coarse Gaussians; anything still unreached gets the mean known colour.
    (cv2.inpaint does this better but costs ~50 ms at 256 here, more than a whole view.)"""
    size = texture.shape[0]
    known = (~holes).astype(np.float32)
    colors = texture.astype(np.float32) * known[..., None]
    filled = colors.copy()
    missing = holes.copy()
    mean = colors.sum(axis=(0, 1)) / max(float(known.sum()), 1.0)
    # The coarse passes run on a 4x smaller image (the blur would dominate the scene's cost).
    small_known = cv2.resize(known, (size // 4, size // 4), interpolation=cv2.INTER_AREA)
    small_colors = cv2.resize(colors, (size // 4, size // 4), interpolation=cv2.INTER_AREA)
    for sigma, shrink in ((2.0, 1), (6.0, 4), (18.0, 4)):
        scaled = sigma * size / 256.0 / shrink
        source_known, source_colors = (known, colors) if shrink == 1 else (small_known,
                                                                             small_colors)
        weight = cv2.GaussianBlur(source_known, (0, 0), scaled)
        blurred = cv2.GaussianBlur(source_colors, (0, 0), scaled)
        if shrink != 1:
            weight = cv2.resize(weight, (size, size), interpolation=cv2.INTER_LINEAR)
            blurred = cv2.resize(blurred, (size, size), interpolation=cv2.INTER_LINEAR)
        reach = missing & (weight > 1e-3)
        filled[reach] = blurred[reach] / weight[reach][:, None]
        missing &= ~reach
    filled[missing] = mean
    return filled


def _texel_confidence(dense: np.ndarray, triangles: np.ndarray, raster: Raster,
                      uv_mask: np.ndarray, tolerance: float) -> np.ndarray:
    visible = vertex_visibility(dense, raster, tolerance)
    facing = vertex_normals(dense, triangles)[:, 2]
    trust = np.clip((facing - _FACING_LOW) / (_FACING_HIGH - _FACING_LOW), 0.0, 1.0) * visible
    confidence = np.zeros(uv_mask.shape, dtype=np.float32)
    confidence[uv_mask] = trust
    # Soften the edge between shown and filled texels (a few texels wide).
    blurred = cv2.GaussianBlur(confidence, (0, 0), uv_mask.shape[0] / 128.0)
    return np.minimum(confidence, blurred * 1.5).clip(0.0, 1.0)


def _background(depth: np.ndarray, centre_z: float, box_side: float, size: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Background nodes, triangles and turn weights over the (size x size) scene crop."""
    coords = np.linspace(-0.5, size - 0.5, GRID)
    gx, gy = np.meshgrid(coords, coords)
    pix_c = np.clip(np.rint(gx).astype(int), 0, size - 1)
    pix_r = np.clip(np.rint(gy).astype(int), 0, size - 1)
    node_depth = depth[pix_r, pix_c]
    on_face = np.isfinite(node_depth)
    # Distance (pixels) of each node to the nearest face node, and that node's depth.
    spacing = size / (GRID - 1)
    if on_face.any():
        distance, labels = cv2.distanceTransformWithLabels(
            (~on_face).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        face_ids = np.flatnonzero(on_face.ravel())
        label_to_depth = np.zeros(labels.max() + 1)
        # Each face node carries its own label; map labels to those nodes' depths.
        label_to_depth[labels.ravel()[face_ids]] = node_depth.ravel()[face_ids]
        nearest = label_to_depth[labels]
    else:
        distance = np.full(on_face.shape, np.inf)
        nearest = np.full(on_face.shape, centre_z)
    distance = distance * spacing
    blend = np.exp(-(distance / (FALLOFF * box_side)) ** 2)
    gap = FACE_GAP * box_side
    z = np.where(on_face, node_depth - gap, centre_z + (nearest - gap - centre_z) * blend)
    # A smooth surface: steps in z (the face's jagged outline on the coarse grid) would tear
    # into streaks when turned. On the face it may only move back, never through the face.
    smooth = cv2.GaussianBlur(z, (0, 0), SMOOTHING)
    z = np.where(on_face, np.minimum(smooth, node_depth - gap), smooth)
    vertices = np.stack([gx.ravel(), gy.ravel(), z.ravel()], axis=1)
    index = np.arange(GRID * GRID).reshape(GRID, GRID)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, :-1].ravel(), index[1:, 1:].ravel()
    triangles = np.concatenate([np.stack([a, c, b], 1), np.stack([b, c, d], 1)]).astype(np.int32)
    return vertices, triangles, blend.ravel()


def build_scene(photo: FittedPhoto, texture_topology: UVTopology) -> Scene:
    """Turn a fitted photo into a :class:`Scene` (module docstring)."""
    landmark_points = photo.vertices[texture_topology.landmark_vertices, :2]
    low, high = landmark_points.min(axis=0), landmark_points.max(axis=0)
    scene_crop = crop_from_box(np.concatenate([low, high]), SCENE_SIZE, SCENE_SCALE)
    image = scene_crop.warp(photo.image)
    region = scene_crop.to_crop(photo.vertices.astype(np.float64))
    box_side = float(np.mean(high - low)) * scene_crop.scale
    pose = photo.fit.pose
    centre = scene_crop.to_crop(pose.project((HEAD_CENTRE_ICT * FLIP_Y)[None]))[0]
    raster = rasterize(region, texture_topology.region_triangles, SCENE_SIZE, SCENE_SIZE)
    mask = texture_topology.uv_mask
    posmap = encode(region, texture_topology)
    dense = posmap[mask].astype(np.float64)
    confidence = _texel_confidence(dense, texture_topology.triangles, raster, mask,
                                   visibility_tolerance(SCENE_SIZE))
    texture = fill_hidden_texture(uv_texture(image, posmap, mask), confidence, mask)
    grid_vertices, grid_triangles, grid_weight = _background(
        raster.depth, float(centre[2]), box_side, SCENE_SIZE)
    return Scene(image=image, region_vertices=region, face_vertices=dense,
                 face_triangles=texture_topology.triangles,
                 face_colors=texture[mask].astype(np.float32) / 255.0,
                 grid_vertices=grid_vertices, grid_triangles=grid_triangles,
                 grid_weight=grid_weight, centre=centre, rotation=pose.rotation,
                 roll=pose.roll, texture=texture)


def _rotate(points: np.ndarray, centre: np.ndarray, axis: np.ndarray, angle: np.ndarray
            ) -> np.ndarray:
    """Rodrigues rotation of each point about ``axis`` through ``centre`` by its own angle."""
    offset = points - centre
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    along = offset @ axis
    return (centre + offset * cos + np.cross(axis, offset) * sin
            + np.outer(along, axis) * (1.0 - cos))


def render_view(scene: Scene, yaw: float, pitch: float, topology: UVTopology,
                size: int) -> Sample:
    """Render the scene with the head turned to (yaw, pitch) and the photo's roll.

    Args:
        scene: from :func:`build_scene`.
        yaw, pitch: target head angles in degrees (:mod:`facerecon.apps.pose`).
        topology: the output position map's topology.
        size: output crop side S.

    Returns:
        A :class:`Sample` (crop, position map, landmarks and their visibility, pose).
    """
    if not (np.isfinite(yaw) and np.isfinite(pitch) and abs(yaw) <= 90.0):
        raise InvalidInputError(f"yaw must be in [-90, 90] and pitch finite, got {yaw}, {pitch}")
    target = rotation_from_euler(yaw, pitch, scene.roll)
    turn = target @ scene.rotation.T
    rotvec = cv2.Rodrigues(turn)[0].ravel()
    angle = float(np.linalg.norm(rotvec))
    axis = rotvec / angle if angle > 1e-12 else np.array([0.0, 1.0, 0.0])
    region = scene.centre + (scene.region_vertices - scene.centre) @ turn.T
    face = scene.centre + (scene.face_vertices - scene.centre) @ turn.T
    grid = _rotate(scene.grid_vertices, scene.centre, axis, angle * scene.grid_weight)
    crop = crop_from_landmarks(region[topology.landmark_vertices, :2], size)
    vertices = crop.to_crop(np.concatenate([grid, face]))
    triangles = np.concatenate([scene.grid_triangles,
                                scene.face_triangles + len(grid)]).astype(np.int32)
    attributes = np.zeros((len(vertices), 5), dtype=np.float32)
    attributes[: len(grid), :2] = scene.grid_vertices[:, :2]
    attributes[len(grid):, 2:] = scene.face_colors
    raster = rasterize(vertices, triangles, size, size, attributes)
    on_face = raster.triangle_index >= len(scene.grid_triangles)
    background = cv2.remap(scene.image, raster.attributes[..., 0], raster.attributes[..., 1],
                           interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    face_rgb = np.clip(raster.attributes[..., 2:] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    image = np.where(on_face[..., None], face_rgb, background)
    image[~raster.mask] = 0
    region_crop = crop.to_crop(region)
    landmarks = region_crop[topology.landmark_vertices].astype(np.float32)
    face_only = Raster(depth=np.where(on_face, raster.depth, -np.inf).astype(np.float32),
                       triangle_index=np.where(on_face, raster.triangle_index, -1),
                       barycentric=raster.barycentric)
    visible = vertex_visibility(landmarks, face_only, visibility_tolerance(size))
    new_yaw, new_pitch, new_roll = euler_from_rotation(target)
    return Sample(image=image, posmap=encode(region_crop, topology), landmarks=landmarks,
                  visible=visible, yaw=new_yaw, pitch=new_pitch, roll=new_roll)


def view_targets(rng: np.random.Generator, yaw: float, pitch: float, count: int,
                 step: float = 15.0, max_turn: float = 90.0, pitch_spread: float = 40.0,
                 pitch_limit: float = 45.0,
                 pitch_shift: float = 0.0) -> list[tuple[float, float]]:
    """Pick ``count`` (yaw, pitch) targets for a photo whose head is at (yaw, pitch).

    Target yaws are distinct multiples of ``step`` in [-90, 90], at least ``step`` / 2 and at
    most ``max_turn`` degrees away from the photo's yaw, drawn uniformly; each target pitch
    (degrees, > 0 looking up) is the photo's pitch plus ``pitch_shift`` plus a uniform draw in
    [-pitch_spread, pitch_spread], kept within [-pitch_limit, pitch_limit] (or the photo's
    own pitch where that lies outside). A positive shift turns more views upward than
    downward. Fewer targets are returned when fewer yaws qualify.
    """
    candidates = np.arange(-90.0, 90.0 + 1e-9, step)
    distance = np.abs(candidates - yaw)
    candidates = candidates[(distance >= step / 2) & (distance <= max_turn)]
    chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
    low, high = min(-pitch_limit, pitch), max(pitch_limit, pitch)
    draws = rng.uniform(-pitch_spread, pitch_spread, size=len(chosen))
    pitches = np.clip(pitch + pitch_shift + draws, low, high)
    return [(float(y), float(p)) for y, p in zip(chosen, pitches, strict=True)]

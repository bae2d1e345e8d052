"""UV topology of the position map, built from ICT-FaceKit's face UVs.

Use :func:`load_topology` (packaged ``uv_topology_<R>.npz``); the builder lives in
:mod:`facerecon.topology.build` (needs ICT-FaceKit and the rasteriser).
"""

from facerecon.topology.uv_topology import UVTopology, load_topology

__all__ = ["UVTopology", "load_topology"]

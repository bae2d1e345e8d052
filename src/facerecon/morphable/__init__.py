"""Morphable face models: ICT-FaceKit's face region (:mod:`facerecon.morphable.ict`)."""

from facerecon.morphable.ict import IctModel, load_ict

__all__ = ["IctModel", "load_ict"]

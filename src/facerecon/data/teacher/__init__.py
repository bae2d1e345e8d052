"""3DDFA_V2 landmark teacher: our MobileNet-V1 port, its ROI recipe and its decoder."""

from facerecon.data.teacher.model import Teacher, decode_params
from facerecon.data.teacher.roi import ROI_RULES, RoiRule, crop_roi_bgr, landmark_box, roi_from_box

__all__ = [
    "ROI_RULES",
    "RoiRule",
    "Teacher",
    "crop_roi_bgr",
    "decode_params",
    "landmark_box",
    "roi_from_box",
]

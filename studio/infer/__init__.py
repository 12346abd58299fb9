"""Inference: photos of any size (stylize), previews, same-size frames for video and the webcam (frames),
temporal stability, and video files."""

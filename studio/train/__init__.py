"""Training: one run (trainer), many at once (bank), its step, content images, sessions on disk, the
pre-trained start, and quick look (Gatys-style optimisation of one photo)."""

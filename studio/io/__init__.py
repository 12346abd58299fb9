"""Files: safe image decoding and saving, image-likes to tensors, atomic writes."""

"""Networks and losses: the style transformation network, the frozen VGG16 loss network, perceptual losses."""

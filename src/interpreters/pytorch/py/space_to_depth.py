"""The 2x2 squeeze of channels-last images and its inverse."""


def space_to_depth(x):
    """2x2 squeeze of [N, H, W, C] to [N, H/2, W/2, 4C]: channel 4c + 2dy + dx (pixel_unshuffle's order)."""
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 5, 2, 4)
    return blocks.reshape(n, h // 2, w // 2, 4 * c)


def depth_to_space(y):
    """The inverse of space_to_depth: [N, H, W, 4C] to [N, 2H, 2W, C]."""
    n, h, w, c4 = y.shape
    blocks = y.reshape(n, h, w, c4 // 4, 2, 2).permute(0, 1, 4, 2, 5, 3)
    return blocks.reshape(n, 2 * h, 2 * w, c4 // 4)

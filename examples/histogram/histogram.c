/*
 * Histogram equalization of RGBA pixels: each colour channel's values are
 * spread so that their cumulative histogram becomes a straight line; alpha
 * is kept.  The working tables come from malloc and are never freed here:
 * the page calls free_all after each image ("allocate, process, free all").
 */
#include "../../malloc0.h"

#define CHANNELS 4
#define COLOUR_CHANNELS 3
#define LEVELS 256
#define MAX_LEVEL (LEVELS - 1)

typedef unsigned char byte;

/* The map from old to new values for one channel; NULL if out of memory. */
static byte *channel_map(const byte *rgba, size_t pixels, int channel)
{
    size_t *cumulative = calloc(LEVELS, sizeof *cumulative);
    byte *map = malloc(LEVELS);
    size_t i, lowest = 0;
    if (!cumulative || !map)
        return 0;
    for (i = 0; i < pixels; i++)
        cumulative[rgba[i * CHANNELS + channel]]++;
    for (i = 1; i < LEVELS; i++)
        cumulative[i] += cumulative[i - 1];
    while (lowest < MAX_LEVEL && !cumulative[lowest])
        lowest++;
    for (i = 0; i < LEVELS; i++) {
        size_t below = cumulative[i] - cumulative[lowest], span = pixels - cumulative[lowest];
        map[i] = (byte)(span ? (below * MAX_LEVEL + span / 2) / span : i);
    }
    return map;
}

/* Equalizes the image in place; returns 0 if out of memory. */
__attribute__((export_name("equalize"))) int equalize(byte *rgba, size_t pixels)
{
    byte *maps[COLOUR_CHANNELS];
    size_t i;
    int channel;
    for (channel = 0; channel < COLOUR_CHANNELS; channel++)
        if (!(maps[channel] = channel_map(rgba, pixels, channel)))
            return 0;
    for (i = 0; i < pixels; i++)
        for (channel = 0; channel < COLOUR_CHANNELS; channel++)
            rgba[i * CHANNELS + channel] = maps[channel][rgba[i * CHANNELS + channel]];
    return 1;
}

/* Blending a segmentation class mask onto a frame in place.
 *
 * The mask is scaled to the destination rectangle with nearest neighbour
 * (mask column = dx * mask_width / dest_width, torch's 'nearest'), and each
 * enabled class's colour is mixed in with 8-bit fixed-point weights, so that
 * alpha 0 leaves every byte as it was and alpha 1 writes the colour exactly.
 *
 * RGB-family formats get the colour in R, G and B (alpha/padding bytes are
 * never written); GRAY8 gets its BT.601 luma; YUV formats get the colour's
 * BT.601 Y'CbCr (limited range unless frame->full_range): Y per pixel, and
 * Cb/Cr per chroma sample with the class at the top-left pixel of its 2x2
 * block. A chroma sample is shared by its whole block, so it is blended only
 * when the block (clipped to the frame) lies inside dest: nothing outside
 * dest ever changes.
 *
 * Every byte is out = (in * keep + add) >> 8 with its class's weights, and
 * a disabled class's bytes are left alone, whichever of the two ways below a
 * row takes and however the rows are split over threads: the result does
 * not depend on either. */
#include "internal.h"
#include "kernels.h"
#include "preprocess.h"
#include "threading.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct blend_table {
  uint8_t on[256];        /* class enabled */
  uint16_t add[256][3];   /* colour * a + 128 per target channel */
  uint16_t keep;          /* 256 - a */
  /* Per target channel and class, the byte weights keep | add << 16: a
     disabled class has keep 256 and add 0, which leaves a byte as it was
     (one load per pixel, no branch on the class). */
  uint32_t weights[3][256];
} blend_table;

/* ---- colour targets ----------------------------------------------------- */

static int clamp_round(double v) {
  long r = lround(v);
  return r < 0 ? 0 : (r > 255 ? 255 : (int)r);
}

/* BT.601: Kr = 0.299, Kb = 0.114. */
static void rgb_to_ycbcr(const uint8_t rgb[3], int full_range, int out[3]) {
  const double kr = 0.299, kb = 0.114, kg = 1.0 - kr - kb;
  double r = rgb[0], g = rgb[1], b = rgb[2];
  double y = kr * r + kg * g + kb * b;
  double cb = (b - y) / (2.0 * (1.0 - kb)), cr = (r - y) / (2.0 * (1.0 - kr));
  if (full_range) {
    out[0] = clamp_round(y);
    out[1] = clamp_round(128.0 + cb);
    out[2] = clamp_round(128.0 + cr);
  } else {
    out[0] = clamp_round(16.0 + y * 219.0 / 255.0);
    out[1] = clamp_round(128.0 + cb * 224.0 / 255.0);
    out[2] = clamp_round(128.0 + cr * 224.0 / 255.0);
  }
}

static void table_init(blend_table *t, const mnv3_frame *f,
                       const uint8_t colors[256][3], const uint8_t *enabled,
                       int a) {
  int yuv = f->format >= MNV3_PIXEL_I420 && f->format <= MNV3_PIXEL_NV21;
  t->keep = (uint16_t)(256 - a);
  for (int c = 0; c < 256; c++) {
    t->on[c] = enabled ? enabled[c] != 0 : 1;
    int target[3];
    if (yuv) {
      rgb_to_ycbcr(colors[c], f->full_range, target);
    } else if (f->format == MNV3_PIXEL_GRAY8) {
      rgb_to_ycbcr(colors[c], 1, target); /* GRAY8 holds full-range luma */
    } else {
      for (int k = 0; k < 3; k++)
        target[k] = colors[c][k];
    }
    for (int k = 0; k < 3; k++) {
      t->add[c][k] = (uint16_t)(target[k] * a + 128);
      t->weights[k][c] = t->on[c] ? t->keep | (uint32_t)t->add[c][k] << 16 : 256;
    }
  }
}

/* ---- geometry ----------------------------------------------------------- */

typedef struct mask_map {
  const uint8_t *mask;
  int stride, mw, mh;
  mnv3_rect dest;
  const int *col; /* mask column of each dest column */
} mask_map;

static int mask_row_index(const mask_map *m, int frame_y) {
  return (int)((int64_t)(frame_y - m->dest.y) * m->mh / m->dest.height);
}

static void columns_init(int *col, int dest_w, int mask_w) {
  /* col[dx] = dx * mask_w / dest_w, stepped without a division per pixel */
  int index = 0, rem = 0;
  for (int dx = 0; dx < dest_w; dx++) {
    col[dx] = index;
    rem += mask_w;
    while (rem >= dest_w) {
      rem -= dest_w;
      index++;
    }
  }
}

/* The mask columns one axis of a row reads (dest columns, or chroma
 * samples): positions [pos[k], pos[k + 1]) read mask column first + k, for
 * k < span (none of them when the mask is downscaled past column k). */
typedef struct axis {
  const int *map; /* mask column of each position */
  int n;          /* positions */
  int first, span;
  int *pos;       /* span + 1 entries */
} axis;

static void axis_init(axis *ax, const int *map, int n, int *pos) {
  const int first = map[0], span = map[n - 1] - first + 1;
  for (int k = 0, j = 0; k <= span; k++) {
    while (j < n && map[j] < first + k)
      j++;
    pos[k] = j;
  }
  *ax = (axis){map, n, first, span, pos};
}

/* ---- runs of one class -------------------------------------------------- */

/* A row whose mask row has long runs of one class is blended run by run
 * with constant weights: no per-byte weights to build or load, and a
 * disabled class's run is skipped, neither read nor written. A row cut into
 * many short runs (a noisy mask) is cheaper through the per-byte lines
 * below: a loop per short run costs a mispredicted branch each. */
#define MIN_MEAN_RUN 12 /* positions per run, on average, to go run by run */

typedef struct run {
  int begin, end; /* axis positions */
  int cls;
} run;

/* Index of the first of p[i + 1 .. count - 1] whose class differs from
 * p[i], or count. */
static int run_end(const uint8_t *p, int i, int count) {
  const uint8_t c = p[i];
  int j = i + 1;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* Eight mask bytes at a time: a run of a real mask is tens of columns. */
  const uint64_t rep = 0x0101010101010101u * c;
  for (; j + 8 <= count; j += 8) {
    uint64_t w;
    memcpy(&w, p + j, 8);
    w ^= rep;
    if (w)
      return j + __builtin_ctzll(w) / 8;
  }
#endif
  while (j < count && p[j] == c)
    j++;
  return j;
}

/* How many times the class changes over the mask columns ax spans: a
 * vector kernel, so that a noisy row costs little before it goes to the
 * lines. It bounds the runs along ax, and those of the chroma axis too,
 * whose columns lie within the luma axis's: the luma count decides for
 * both. */
static int class_changes(const mnv3_kernels *k, const axis *ax, const uint8_t *mrow) {
  return k->count_changes(mrow + ax->first, ax->span);
}

/* The runs of mask row mrow along ax into runs[]; -1 when there are more
 * than max_runs (the row is blended through lines then). */
static int runs_scan(const axis *ax, const uint8_t *mrow, run *runs, int max_runs) {
  const uint8_t *p = mrow + ax->first;
  int nruns = 0;
  for (int i = 0; i < ax->span;) {
    const int j = run_end(p, i, ax->span);
    if (ax->pos[i] < ax->pos[j]) { /* no position reads a skipped column */
      if (nruns == max_runs)
        return -1;
      runs[nruns++] = (run){ax->pos[i], ax->pos[j], p[i]};
    }
    i = j;
  }
  return nruns;
}

/* ---- per-byte arithmetic ------------------------------------------------ */

/* The kernels' blend_const (one class on one-byte samples) and blend_lines
 * (per-byte weights) do the arithmetic: keep + colour weight = 256 keeps
 * in * keep + add below 65536, plain 16-bit arithmetic on contiguous bytes. */

/* One class on multi-byte pixels (packed RGB, interleaved chroma): the
 * weights repeat every pixel, so a pattern of PATTERN bytes (a whole number
 * of 2-, 3- and 4-byte pixels, and of the widest kernel vector, 64 bytes,
 * so that no block leaves a tail to blend byte by byte) is applied block by
 * block from the run's first pixel. */
#define PATTERN 192

typedef struct pattern {
  uint16_t keep[PATTERN];
  uint16_t (*add)[PATTERN]; /* per class, built on first use */
  uint8_t built[256];
} pattern;

static void blend_pattern(const mnv3_kernels *k, uint8_t *p, int n, const uint16_t *keep,
                          const uint16_t *add) {
  int i = 0;
  for (; i + PATTERN <= n; i += PATTERN)
    k->blend_lines(p + i, keep, add, PATTERN);
  k->blend_lines(p + i, keep, add, n - i);
}

/* ---- per-byte lines ------------------------------------------------------ */

/* A row cut into short runs is blended with per-byte weight lines: every
 * frame row that maps to the same mask row has the same weights, built once
 * per mask row (a 256-row mask on a 1080-row frame: once per 4.2 rows). */
typedef struct line {
  uint16_t *keep, *add;   /* plane 0 (packed, luma) or the chroma plane(s) */
  uint16_t *keep2, *add2; /* the V plane of I420/YV12 */
} line;

/* One entry of weights per line entry, entry j reading mask column map[j].
 * (Writing each run of equal columns with wide stores was slower: the
 * overlapping stores stall the blend's loads right after.) */
static void fill_plain(const int *map, int n, const uint8_t *mrow, const uint32_t *tab,
                       uint16_t *keep, uint16_t *add) {
  for (int j = 0; j < n; j++) {
    const uint32_t w = tab[mrow[map[j]]];
    keep[j] = (uint16_t)w;
    add[j] = (uint16_t)(w >> 16);
  }
}

/* Two bytes per entry (interleaved chroma): channel k0 then k1. A class's
 * keep is the same for every channel. */
static void fill_pairs(const int *map, int n, const uint8_t *mrow, const uint32_t *t0,
                       const uint32_t *t1, uint16_t *keep, uint16_t *add) {
  for (int j = 0; j < n; j++) {
    const int cls = mrow[map[j]];
    const uint32_t w0 = t0[cls], w1 = t1[cls];
    keep[2 * j] = keep[2 * j + 1] = (uint16_t)w0;
    add[2 * j] = (uint16_t)(w0 >> 16);
    add[2 * j + 1] = (uint16_t)(w1 >> 16);
  }
}

/* bpp bytes per entry (packed RGB): R, G, B at their offsets, the rest (a
 * 4-byte format's alpha/padding) untouched. */
static void fill_packed(const int *map, int n, const uint8_t *mrow, const blend_table *t,
                        const int off[3], int bpp, uint16_t *keep, uint16_t *add) {
  if (bpp == 4)
    for (int j = 0; j < 4 * n; j++) {
      keep[j] = 256;
      add[j] = 0;
    }
  for (int j = 0; j < n; j++) {
    const int cls = mrow[map[j]];
    for (int c = 0; c < 3; c++) {
      keep[j * bpp + off[c]] = (uint16_t)t->weights[c][cls];
      add[j * bpp + off[c]] = (uint16_t)(t->weights[c][cls] >> 16);
    }
  }
}

static void packed_rgb_offsets(mnv3_pixel_format format, int off[3]) {
  switch (format) {
  case MNV3_PIXEL_BGR: case MNV3_PIXEL_BGRX: case MNV3_PIXEL_BGRA:
    off[0] = 2, off[1] = 1, off[2] = 0;
    break;
  case MNV3_PIXEL_XRGB: case MNV3_PIXEL_ARGB:
    off[0] = 1, off[1] = 2, off[2] = 3;
    break;
  case MNV3_PIXEL_XBGR: case MNV3_PIXEL_ABGR:
    off[0] = 3, off[1] = 2, off[2] = 1;
    break;
  default: /* RGB, RGBX, RGBA */
    off[0] = 0, off[1] = 1, off[2] = 2;
    break;
  }
}

/* ---- one call's shared state and its bands ------------------------------ */

typedef enum family { PACKED, LUMA_ONLY, PLANAR_YUV, SEMI_PLANAR_YUV } family;

typedef struct job {
  const mnv3_kernels *k; /* the byte loops */
  const mnv3_frame *f;
  uint8_t *planes[3]; /* I420/YV12: U in planes[1] */
  family fam;
  mask_map m;
  const blend_table *t;
  int bpp, off[3];    /* packed */
  int first_k;        /* interleaved chroma: table channel of the first byte */
  axis luma, chroma;  /* chroma: samples cx0 .. cx0 + chroma.n - 1 */
  int cx0, cy0, cy1;
  int y_base, band_rows, nbands; /* bands of frame rows from y_base (even) */
  size_t line_entries;           /* per line, per band */
  char *bands;                   /* each band's scratch, band_bytes apart */
  size_t band_bytes;
} job;

/* Per-band scratch: lines, runs and the pixel pattern. */
typedef struct band_scratch {
  line l;
  run *runs;
  int max_runs;
  pattern pat;
} band_scratch;

static int max_runs(const job *j) { return j->m.dest.width / MIN_MEAN_RUN + 1; }

static size_t scratch_bytes(const job *j) {
  return 4 * j->line_entries * sizeof(uint16_t) + ((size_t)max_runs(j) + 1) * sizeof(run) +
         (j->fam == PACKED || j->fam == SEMI_PLANAR_YUV ? 256 * PATTERN * sizeof(uint16_t) : 0);
}

static void scratch_init(const job *j, band_scratch *s, void *mem) {
  uint16_t *w = mem;
  const size_t e = j->line_entries;
  s->l = (line){w, w + e, w + 2 * e, w + 3 * e};
  s->runs = (run *)(w + 4 * e); /* 4 * e uint16: 8-byte aligned as e is even */
  s->max_runs = max_runs(j);
  s->pat.add = (uint16_t(*)[PATTERN])(s->runs + s->max_runs + 1);
  memset(s->pat.built, 0, sizeof s->pat.built);
  if (j->fam == PACKED)
    for (int b = 0; b < PATTERN; b++) {
      const int o = b % j->bpp;
      s->pat.keep[b] = o == j->off[0] || o == j->off[1] || o == j->off[2] ? j->t->keep : 256;
    }
  else
    for (int b = 0; b < PATTERN; b++)
      s->pat.keep[b] = j->t->keep;
}

/* The pattern of adds of class c (packed RGB or interleaved chroma). */
static const uint16_t *pattern_add(const job *j, pattern *pat, int c) {
  uint16_t *add = pat->add[c];
  if (!pat->built[c]) {
    const uint16_t *a = j->t->add[c];
    for (int b = 0; b < PATTERN; b++) {
      if (j->fam == PACKED) {
        const int o = b % j->bpp;
        add[b] = o == j->off[0] ? a[0] : o == j->off[1] ? a[1] : o == j->off[2] ? a[2] : 0;
      } else {
        add[b] = b % 2 == 0 ? a[j->first_k] : a[3 - j->first_k];
      }
    }
    pat->built[c] = 1;
  }
  return add;
}

/* Frame rows [y0, y1) of plane 0 (packed, luma, GRAY8). */
static void band_plane0(const job *j, band_scratch *s, int y0, int y1) {
  const mask_map *m = &j->m;
  const blend_table *t = j->t;
  const int bpp = j->fam == PACKED ? j->bpp : 1;
  int cur = -1, nruns = 0;
  for (int y = y0; y < y1; y++) {
    const int my = mask_row_index(m, y);
    const uint8_t *mrow = m->mask + (size_t)my * m->stride;
    if (my != cur) {
      nruns = class_changes(j->k, &j->luma, mrow) < s->max_runs
                  ? runs_scan(&j->luma, mrow, s->runs, s->max_runs)
                  : -1;
      if (nruns < 0) {
        if (j->fam == PACKED)
          fill_packed(m->col, m->dest.width, mrow, t, j->off, bpp, s->l.keep, s->l.add);
        else
          fill_plain(m->col, m->dest.width, mrow, t->weights[0], s->l.keep, s->l.add);
      }
      cur = my;
    }
    uint8_t *row = j->planes[0] + (size_t)y * j->f->strides[0] + (size_t)m->dest.x * bpp;
    if (nruns < 0) {
      j->k->blend_lines(row, s->l.keep, s->l.add, m->dest.width * bpp);
      continue;
    }
    for (int r = 0; r < nruns; r++) {
      const run *u = &s->runs[r];
      if (!t->on[u->cls])
        continue;
      if (j->fam == PACKED)
        blend_pattern(j->k, row + (size_t)u->begin * bpp, (u->end - u->begin) * bpp,
                      s->pat.keep, pattern_add(j, &s->pat, u->cls));
      else
        j->k->blend_const(row + u->begin, u->end - u->begin, t->keep, t->add[u->cls][0]);
    }
  }
}

/* Chroma rows [cy0, cy1): a sample follows the class at its block's top-left
 * pixel. NV12/NV21 interleave U and V (2 bytes per sample); I420/YV12 have a
 * plane each. */
static void band_chroma(const job *j, band_scratch *s, int cy0, int cy1) {
  const mask_map *m = &j->m;
  const blend_table *t = j->t;
  const int n = j->chroma.n, interleaved = j->fam == SEMI_PLANAR_YUV;
  int cur = -1, nruns = 0;
  for (int cy = cy0; cy < cy1; cy++) {
    const int my = mask_row_index(m, 2 * cy);
    const uint8_t *mrow = m->mask + (size_t)my * m->stride;
    if (my != cur) {
      const int max_runs = n / MIN_MEAN_RUN + 1;
      nruns = class_changes(j->k, &j->luma, mrow) < max_runs
                  ? runs_scan(&j->chroma, mrow, s->runs, max_runs)
                  : -1;
      if (nruns < 0) {
        if (interleaved) {
          fill_pairs(j->chroma.map, n, mrow, t->weights[j->first_k],
                     t->weights[3 - j->first_k], s->l.keep, s->l.add);
        } else {
          fill_plain(j->chroma.map, n, mrow, t->weights[1], s->l.keep, s->l.add);
          fill_plain(j->chroma.map, n, mrow, t->weights[2], s->l.keep2, s->l.add2);
        }
      }
      cur = my;
    }
    uint8_t *u = j->planes[1] + (size_t)cy * j->f->strides[1] + (size_t)j->cx0 * (interleaved ? 2 : 1);
    uint8_t *v = interleaved ? NULL : j->planes[2] + (size_t)cy * j->f->strides[2] + j->cx0;
    if (nruns < 0) {
      if (interleaved) {
        j->k->blend_lines(u, s->l.keep, s->l.add, 2 * n);
      } else {
        j->k->blend_lines(u, s->l.keep, s->l.add, n);
        j->k->blend_lines(v, s->l.keep2, s->l.add2, n);
      }
      continue;
    }
    for (int r = 0; r < nruns; r++) {
      const run *w = &s->runs[r];
      if (!t->on[w->cls])
        continue;
      if (interleaved) {
        blend_pattern(j->k, u + 2 * (size_t)w->begin, 2 * (w->end - w->begin), s->pat.keep,
                      pattern_add(j, &s->pat, w->cls));
      } else {
        j->k->blend_const(u + w->begin, w->end - w->begin, t->keep, t->add[w->cls][1]);
        j->k->blend_const(v + w->begin, w->end - w->begin, t->keep, t->add[w->cls][2]);
      }
    }
  }
}

/* Band b: frame rows [y_base + b * band_rows, + band_rows) within dest, and
 * the chroma rows whose top luma row lies there (band_rows is even, so a
 * chroma row stays with both its luma rows). */
static void band_run(void *arg, size_t b) {
  const job *j = arg;
  band_scratch s;
  scratch_init(j, &s, j->bands + b * j->band_bytes);
  const int lo = j->y_base + (int)b * j->band_rows, hi = lo + j->band_rows;
  const int dy0 = j->m.dest.y, dy1 = dy0 + j->m.dest.height;
  band_plane0(j, &s, lo > dy0 ? lo : dy0, hi < dy1 ? hi : dy1);
  if (j->fam == PLANAR_YUV || j->fam == SEMI_PLANAR_YUV) {
    const int c0 = lo / 2 > j->cy0 ? lo / 2 : j->cy0, c1 = hi / 2 < j->cy1 ? hi / 2 : j->cy1;
    if (c0 < c1)
      band_chroma(j, &s, c0, c1);
  }
}

/* ---- entry -------------------------------------------------------------- */

static int check_args(const mnv3_frame *frame, uint8_t *const planes[3],
                      const mnv3_rect *dest, const mnv3_blend *b,
                      mnv3_error *error) {
  if (!frame || !planes || !b)
    return mnv3_fail(error, "blend: %s is NULL",
                     !frame ? "frame" : !planes ? "planes" : "blend");
  /* Validate the writable planes with the frame's geometry. */
  mnv3_frame writable = *frame;
  for (int i = 0; i < 3; i++)
    writable.planes[i] = planes[i];
  if (mnv3_frame_validate(&writable, error)) {
    mnv3_error_prefix(error, "blend: ");
    return -1;
  }
  if (!b->mask || !b->colors)
    return mnv3_fail(error, "blend: %s is NULL", !b->mask ? "mask" : "colors");
  if (b->mask_width < 1 || b->mask_height < 1 || b->mask_stride < b->mask_width)
    return mnv3_fail(error, "blend: mask %dx%d with stride %d is invalid; "
                     "sides must be >= 1 and stride >= width", b->mask_width,
                     b->mask_height, b->mask_stride);
  if (!(b->alpha >= 0.0f && b->alpha <= 1.0f))
    return mnv3_fail(error, "blend: alpha %g is outside [0, 1]",
                     (double)b->alpha);
  if (dest->width < 1 || dest->height < 1 || dest->x < 0 || dest->y < 0 ||
      dest->x > frame->width - dest->width ||
      dest->y > frame->height - dest->height)
    return mnv3_fail(error, "blend: dest x=%d y=%d %dx%d does not lie within "
                     "the %dx%d frame; pass a non-empty rectangle inside it",
                     dest->x, dest->y, dest->width, dest->height,
                     frame->width, frame->height);
  return 0;
}

/* First and one-past-last chroma index along one axis whose luma block
 * [2i, min(2i + 1, side - 1)] lies inside [lo, lo + len). */
static void chroma_span(int lo, int len, int side, int *first, int *end) {
  int last = lo + len - 1;
  *first = (lo + 1) / 2;
  /* The frame's last block may be one pixel wide: it counts when dest
     reaches the frame's edge. */
  *end = last == side - 1 ? last / 2 + 1 : (last + 1) / 2;
  if (*end < *first)
    *end = *first;
}

/* Splitting pays for the pool's wake-up only on a large enough rectangle. */
#define MIN_POOL_PIXELS 32768
#define MIN_BAND_ROWS 16
#define MAX_BANDS 64

static void plan_bands(job *j, const mnv3_workers *workers) {
  const mnv3_rect *d = &j->m.dest;
  j->y_base = d->y & ~1;
  const int rows = d->y + d->height - j->y_base;
  const size_t threads = mnv3_workers_threads(workers);
  if (threads < 2 || (int64_t)d->width * d->height < MIN_POOL_PIXELS) {
    j->band_rows = rows + (rows & 1);
    j->nbands = 1;
    return;
  }
  /* A few bands per thread: the pool hands them out as threads finish, so
     a band of mostly skipped (disabled) rows does not leave one idle. */
  int band_rows = (int)((rows + 4 * threads - 1) / (4 * threads));
  if (band_rows < MIN_BAND_ROWS)
    band_rows = MIN_BAND_ROWS;
  band_rows += band_rows & 1;
  if ((rows + band_rows - 1) / band_rows > MAX_BANDS)
    band_rows = (rows + MAX_BANDS - 1) / MAX_BANDS + 1;
  band_rows += band_rows & 1;
  j->band_rows = band_rows;
  j->nbands = (rows + band_rows - 1) / band_rows;
}

int mnv3_blend_mask(mnv3_context *ctx, const mnv3_frame *frame, uint8_t *const planes[3],
                    const mnv3_rect *dest, const mnv3_blend *blend, mnv3_error *error) {
  /* dest NULL: the whole frame */
  mnv3_rect whole = {0, 0, frame ? frame->width : 0, frame ? frame->height : 0};
  if (!dest)
    dest = &whole;
  if (check_args(frame, planes, dest, blend, error))
    return -1;
  const int mask_width = blend->mask_width;
  int a = (int)lrintf(blend->alpha * 256.0f);
  if (a == 0)
    return 0; /* nothing would change */

  job j = {.k = mnv3_kernels_get(), .f = frame, .planes = {planes[0], planes[1], planes[2]}};
  switch (frame->format) {
  case MNV3_PIXEL_I420: case MNV3_PIXEL_YV12:
    j.fam = PLANAR_YUV;
    break;
  case MNV3_PIXEL_NV12: case MNV3_PIXEL_NV21:
    j.fam = SEMI_PLANAR_YUV;
    break;
  case MNV3_PIXEL_GRAY8:
    j.fam = LUMA_ONLY;
    break;
  default:
    j.fam = PACKED;
    j.bpp = mnv3_packed_pixel_bytes(frame->format);
    packed_rgb_offsets(frame->format, j.off);
    break;
  }
  /* One buffer: the column maps every band reads (where each dest column
     and chroma sample reads the mask, where each mask column lands), then
     each band's scratch (lines, runs, patterns), a cache line apart. A
     context keeps it between calls: no allocation per frame. */
  const size_t w = (size_t)dest->width;
  const size_t mw = (size_t)mask_width;
  j.m = (mask_map){blend->mask, blend->mask_stride, mask_width, blend->mask_height, *dest,
                   NULL};
  j.line_entries = w * (j.fam == PACKED ? (size_t)j.bpp : 1);
  j.line_entries += j.line_entries & 1;
  mnv3_threading_run run;
  mnv3_workers *workers = ctx ? mnv3_context_side_job_begin(ctx, &run) : NULL;
  plan_bands(&j, workers);
  const size_t maps_bytes = ((2 * w + 2 * mw + 4) * sizeof(int) + 63) / 64 * 64;
  j.band_bytes = (scratch_bytes(&j) + 63) / 64 * 64;
  const size_t bytes = maps_bytes + j.band_bytes * (size_t)j.nbands;
  void *owned = NULL;
  char *mem = ctx ? mnv3_context_scratch(ctx, bytes) : (owned = malloc(bytes));
  if (!mem) {
    if (ctx)
      mnv3_context_side_job_end(ctx, &run);
    return mnv3_fail(error, "blend: out of memory for a %d-wide mask row", dest->width);
  }
  int *col = (int *)mem; /* malloc'd: no declared type */
  int *cmap = col + w, *pos = cmap + w, *cpos = pos + mw + 2;
  j.bands = mem + maps_bytes;
  columns_init(col, dest->width, mask_width);
  axis_init(&j.luma, col, dest->width, pos);
  j.m.col = col;

  blend_table table;
  table_init(&table, frame, blend->colors, blend->enabled, a);
  j.t = &table;
  j.chroma.n = 0;
  if (j.fam == PLANAR_YUV || j.fam == SEMI_PLANAR_YUV) {
    int cx1;
    chroma_span(dest->x, dest->width, frame->width, &j.cx0, &cx1);
    chroma_span(dest->y, dest->height, frame->height, &j.cy0, &j.cy1);
    const int n = cx1 - j.cx0;
    if (n > 0 && j.cy1 > j.cy0) {
      for (int i = 0; i < n; i++)
        cmap[i] = col[2 * (j.cx0 + i) - dest->x];
      axis_init(&j.chroma, cmap, n, cpos);
    } else {
      j.cy1 = j.cy0; /* no whole block inside dest */
    }
    j.first_k = frame->format == MNV3_PIXEL_NV21 ? 2 : 1;
  }

  if (j.nbands > 1)
    mnv3_parallelize_1d(workers, band_run, &j, (size_t)j.nbands, 0);
  else
    band_run(&j, 0);
  if (ctx)
    mnv3_context_side_job_end(ctx, &run);
  free(owned);
  return 0;
}

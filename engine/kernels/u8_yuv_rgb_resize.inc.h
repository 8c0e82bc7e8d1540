/* Template: one row of the network's RGB input from two YUV frame rows
 * (kernels.h, mnv3_yuv_rows), for one ISA: VW columns at a time, and the
 * reference's operations in its order, so the result is the reference's to
 * the bit. Y, U and V are interpolated as they are and converted once per
 * output pixel. */
#include "kernels.h"

static inline __attribute__((always_inline)) vf clamp255(vf v) {
  /* max then min with the constant second: v > 0 ? v : 0, then
     v < 255 ? v : 255, exactly as the reference. */
  return vmin(vmax(v, vzero()), vset1(255.0f));
}

/* Where the two taps of one plane lie for a block of VW columns, worked out
 * once per block and used for every row (and for U and V alike) that reads
 * at those offsets. Offset first[i] <= second[i], both nondecreasing along
 * the block. Where the ISA has them and the block's taps lie within
 * VWINDOW_BYTES, they are picked out of one window load (permutes; gathers
 * cost 3-10x more per lane on recent x86 cores): window_at is the window's
 * first byte and word[t] each tap's dword in it. Otherwise one 4-byte read
 * per lane at word[0] (moved back near the row's end so that it stays inside
 * the row; both taps are then still among its 4 bytes). select[t] picks
 * tap t's byte out of its dword (vbyte_at). */
typedef struct taps {
  int window_at; /* -1: a 4-byte read per lane */
  vi word[2], select[2];
} taps;

static inline __attribute__((always_inline)) taps locate_taps(int bytes, const int *first,
                                                              const int *second) {
  taps t;
  const vi f = vload_i(first), s = vload_i(second);
#ifdef VWINDOW_BYTES
  if (bytes >= VWINDOW_BYTES) {
    const int at = first[0] < bytes - VWINDOW_BYTES ? first[0] : bytes - VWINDOW_BYTES;
    if (second[VW - 1] - at < VWINDOW_BYTES) {
      const vi fw = vsub_i(f, vset1_i(at)), sw = vsub_i(s, vset1_i(at));
      t.window_at = at;
      t.word[0] = vdword_of_byte(fw);
      t.word[1] = vdword_of_byte(sw);
      t.select[0] = vbyte_selector(fw);
      t.select[1] = vbyte_selector(sw);
      return t;
    }
  }
#endif
  const vi at = vmin_i(f, vset1_i(bytes - 4));
  t.window_at = -1;
  t.word[0] = t.word[1] = at;
  t.select[0] = vbyte_selector(vsub_i(f, at));
  t.select[1] = vbyte_selector(vsub_i(s, at));
  return t;
}

/* One plane of one row at VW columns: w0 * tap0 + w1 * tap1. */
static inline __attribute__((always_inline)) vf interpolate(const uint8_t *row, const taps *t,
                                                            vf w0, vf w1) {
  vi b0, b1;
#ifdef VWINDOW_BYTES
  if (t->window_at >= 0) {
    const vwindow w = vload_window(row + t->window_at);
    b0 = vbyte_at(vwindow_dword(w, t->word[0]), t->select[0]);
    b1 = vbyte_at(vwindow_dword(w, t->word[1]), t->select[1]);
    return vadd(vmul(w0, vcvt_f(b0)), vmul(w1, vcvt_f(b1)));
  }
#endif
  const vi word = vgather_u8x4(row, t->word[0]);
  b0 = vbyte_at(word, t->select[0]);
  b1 = vbyte_at(word, t->select[1]);
  return vadd(vmul(w0, vcvt_f(b0)), vmul(w1, vcvt_f(b1)));
}

/* Both rows of one plane, blended: h0 * top + h1 * bottom. Two luma rows
   of one 2x2 block share their chroma row (every other output row of a
   downscale): it is read once. */
static inline __attribute__((always_inline)) vf plane_at(const uint8_t *const row[2],
                                                         const taps *t, vf w0, vf w1, vf h0,
                                                         vf h1) {
  const vf top = interpolate(row[0], t, w0, w1);
  const vf bottom = row[1] == row[0] ? top : interpolate(row[1], t, w0, w1);
  return vadd(vmul(h0, top), vmul(h1, bottom));
}

void ISA_SUFFIX(mnv3_u8_yuv_rgb_resize)(const mnv3_yuv_rows *rows, int x_begin, int x_end,
                                        float *dst) {
  int x = x_begin;
  if (rows->y_bytes >= 4 && rows->u_bytes >= 4 && rows->v_bytes >= 4) {
    const mnv3_yuv_coefs *k = rows->coefs;
    const vf h0 = vset1(rows->h0), h1 = vset1(rows->h1), chroma_zero = vset1(128.0f);
    for (; x + VW <= x_end; x += VW) {
      const taps luma = locate_taps(rows->y_bytes, rows->a0 + x, rows->a1 + x);
      const taps u_taps = locate_taps(rows->u_bytes, rows->c0 + x, rows->c1 + x);
      /* NV12/NV21: V's row is a byte shorter or longer than U's. */
      const taps v_taps = rows->v_bytes == rows->u_bytes
                              ? u_taps
                              : locate_taps(rows->v_bytes, rows->c0 + x, rows->c1 + x);
      const vf w0 = vload(rows->w0 + x), w1 = vload(rows->w1 + x);
      const vf y = plane_at(rows->y, &luma, w0, w1, h0, h1);
      const vf u = vsub(plane_at(rows->u, &u_taps, w0, w1, h0, h1), chroma_zero);
      const vf v = vsub(plane_at(rows->v, &v_taps, w0, w1, h0, h1), chroma_zero);
      const vf l = vmul(vsub(y, vset1(k->y_offset)), vset1(k->y_scale));
      vf rgb[3] = {clamp255(vadd(l, vmul(v, vset1(k->rv)))),
                   clamp255(vadd(vadd(l, vmul(u, vset1(k->gu))), vmul(v, vset1(k->gv)))),
                   clamp255(vadd(l, vmul(u, vset1(k->bu))))};
      for (int c = 0; c < 3; c++)
        rgb[c] = vadd(vmul(rgb[c], vset1(rows->scale[c])), vset1(rows->bias[c]));
      vstore_rgb(dst + 3 * (size_t)x, rgb[0], rgb[1], rgb[2]);
    }
  }
  /* A frame a few pixels wide, and the last columns. */
  mnv3_u8_yuv_rgb_resize__scalar(rows, x, x_end, dst);
}

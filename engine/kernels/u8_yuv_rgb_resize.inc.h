/* Template: one row of the network's RGB input from two YUV frame rows
 * (kernels.h, mnv3_yuv_resize_fn), for one ISA: VW columns at a time, and
 * the reference's operations in its order, so the result is the
 * reference's to the bit. */
#include "kernels.h"

static inline __attribute__((always_inline)) vf clamp255(vf v) {
  /* max then min with the constant second: v > 0 ? v : 0, then
     v < 255 ? v : 255, exactly as the reference. */
  return vmin(vmax(v, vzero()), vset1(255.0f));
}
/* The two taps' bytes of a plane for VW columns, first[i] <= second[i] and
   both nondecreasing along the block. One 4-byte read per lane at the first
   tap's offset, moved back near the row's end so that it stays inside the
   row (both taps are then still among its 4 bytes). Where the ISA has them
   and the block's taps lie within VWINDOW_BYTES, picked out of one window
   load instead: gathers cost 3-10x more per lane on recent x86 cores. */
static inline __attribute__((always_inline)) void
load_taps(const uint8_t *plane, int bytes, const int *first, const int *second, vi *b0, vi *b1) {
  const vi f = vload_i(first), s = vload_i(second);
#ifdef VWINDOW_BYTES
  if (bytes >= VWINDOW_BYTES) {
    const int base = first[0] < bytes - VWINDOW_BYTES ? first[0] : bytes - VWINDOW_BYTES;
    if (second[VW - 1] - base < VWINDOW_BYTES) {
      const vwindow w = vload_window(plane + base);
      const vi at = vset1_i(base);
      *b0 = vpick_u8(w, vsub_i(f, at));
      *b1 = vpick_u8(w, vsub_i(s, at));
      return;
    }
  }
#endif
  const vi at = vmin_i(f, vset1_i(bytes - 4));
  const vi word = vgather_u8x4(plane, at);
  *b0 = vbyte_i(word, vsub_i(f, at));
  *b1 = vbyte_i(word, vsub_i(s, at));
}

/* One source row at VW columns from x: RGB, both taps converted, clamped
   and interpolated. */
static inline __attribute__((always_inline)) void
source_row(const mnv3_yuv_rows *rows, int r, int x, vf rgb[3]) {
  const mnv3_yuv_coefs *k = rows->coefs;
  vi ys[2], us[2], vs[2];
  load_taps(rows->y[r], rows->y_bytes, rows->a0 + x, rows->a1 + x, &ys[0], &ys[1]);
  load_taps(rows->u[r], rows->u_bytes, rows->c0 + x, rows->c1 + x, &us[0], &us[1]);
  load_taps(rows->v[r], rows->v_bytes, rows->c0 + x, rows->c1 + x, &vs[0], &vs[1]);
  const vf chroma_zero = vset1(128.0f);
  vf tap[2][3];
  for (int t = 0; t < 2; t++) {
    const vf l = vmul(vsub(vcvt_f(ys[t]), vset1(k->y_offset)), vset1(k->y_scale));
    const vf u = vsub(vcvt_f(us[t]), chroma_zero), v = vsub(vcvt_f(vs[t]), chroma_zero);
    tap[t][0] = clamp255(vadd(l, vmul(v, vset1(k->rv))));
    tap[t][1] = clamp255(vadd(vadd(l, vmul(u, vset1(k->gu))), vmul(v, vset1(k->gv))));
    tap[t][2] = clamp255(vadd(l, vmul(u, vset1(k->bu))));
  }
  const vf w0 = vload(rows->w0 + x), w1 = vload(rows->w1 + x);
  for (int c = 0; c < 3; c++)
    rgb[c] = vadd(vmul(w0, tap[0][c]), vmul(w1, tap[1][c]));
}

void ISA_SUFFIX(mnv3_u8_yuv_rgb_resize)(const mnv3_yuv_rows *rows, int x_begin, int x_end,
                                        float *dst) {
  int x = x_begin;
  if (rows->y_bytes >= 4 && rows->u_bytes >= 4 && rows->v_bytes >= 4) {
    const vf h0 = vset1(rows->h0), h1 = vset1(rows->h1);
    for (; x + VW <= x_end; x += VW) {
      vf top[3], bottom[3], out[3];
      source_row(rows, 0, x, top);
      source_row(rows, 1, x, bottom);
      for (int c = 0; c < 3; c++)
        out[c] = vadd(vmul(vadd(vmul(h0, top[c]), vmul(h1, bottom[c])), vset1(rows->scale[c])),
                      vset1(rows->bias[c]));
      vstore_rgb(dst + 3 * (size_t)x, out[0], out[1], out[2]);
    }
  }
  /* A frame a few pixels wide, and the last columns. */
  mnv3_u8_yuv_rgb_resize_ref(rows, x, x_end, dst);
}

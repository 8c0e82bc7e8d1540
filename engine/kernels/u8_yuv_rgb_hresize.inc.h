/* Template: one YUV frame row to RGB at the output columns, interpolated
 * horizontally (kernels.h, mnv3_yuv_hresize_fn), for one ISA: VW columns at
 * a time, and the reference's operations in its order, so the result is the
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

void ISA_SUFFIX(mnv3_u8_yuv_rgb_hresize)(const mnv3_yuv_row *row, int x_begin, int x_end,
                                         float *dst) {
  int x = x_begin;
  if (row->y_bytes < 4 || row->u_bytes < 4 || row->v_bytes < 4) {
    mnv3_u8_yuv_rgb_hresize_ref(row, x, x_end, dst); /* a frame a few pixels wide */
    return;
  }
  /* Locals, so the stores to dst do not make the compiler reload them. */
  const uint8_t *const py = row->y, *const pu = row->u, *const pv = row->v;
  const int y_bytes = row->y_bytes, u_bytes = row->u_bytes, v_bytes = row->v_bytes;
  const int *const a0 = row->a0, *const a1 = row->a1, *const c0 = row->c0, *const c1 = row->c1;
  const float *const w0 = row->w0, *const w1 = row->w1;
  const mnv3_yuv_coefs *k = row->coefs;
  const vf y_offset = vset1(k->y_offset), y_scale = vset1(k->y_scale);
  const vf rv = vset1(k->rv), gu = vset1(k->gu), gv = vset1(k->gv), bu = vset1(k->bu);
  const vf chroma_zero = vset1(128.0f);
  for (; x + VW <= x_end; x += VW) {
    vi ys[2], us[2], vs[2];
    load_taps(py, y_bytes, a0 + x, a1 + x, &ys[0], &ys[1]);
    load_taps(pu, u_bytes, c0 + x, c1 + x, &us[0], &us[1]);
    load_taps(pv, v_bytes, c0 + x, c1 + x, &vs[0], &vs[1]);
    vf rgb[2][3];
    for (int tap = 0; tap < 2; tap++) {
      const vf l = vmul(vsub(vcvt_f(ys[tap]), y_offset), y_scale);
      const vf u = vsub(vcvt_f(us[tap]), chroma_zero), v = vsub(vcvt_f(vs[tap]), chroma_zero);
      rgb[tap][0] = clamp255(vadd(l, vmul(v, rv)));
      rgb[tap][1] = clamp255(vadd(vadd(l, vmul(u, gu)), vmul(v, gv)));
      rgb[tap][2] = clamp255(vadd(l, vmul(u, bu)));
    }
    const vf wa = vload(w0 + x), wb = vload(w1 + x);
    vf out[3];
    for (int c = 0; c < 3; c++)
      out[c] = vadd(vmul(wa, rgb[0][c]), vmul(wb, rgb[1][c]));
    vstore_rgb0(dst + 4 * (size_t)x, out[0], out[1], out[2]);
  }
  mnv3_u8_yuv_rgb_hresize_ref(row, x, x_end, dst);
}

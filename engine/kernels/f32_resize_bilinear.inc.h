/* Template: bilinear resize, align_corners=False, for one ISA: the
 * reference's formula and operation order (separate multiplies and adds, no
 * FMA), vectorised over channels. */
#include "simd_epilogue.h"

static inline __attribute__((always_inline)) vf
resize_blend(vf p00, vf p01, vf p10, vf p11, vf lx, vf lx1, vf ly, vf ly1) {
  return vadd(vmul(ly1, vadd(vmul(lx1, p00), vmul(lx, p01))),
              vmul(ly, vadd(vmul(lx1, p10), vmul(lx, p11))));
}

void ISA_SUFFIX(mnv3_f32_resize_bilinear)(const float *in, int in_h, int in_w, int channels, float *out,
                       int out_h, int out_w, int row_begin, int row_end) {
  for (int oy = row_begin; oy < row_end; oy++) {
    int y0, y1;
    float fy;
    mnv3_resize_source_index(oy, in_h, out_h, &y0, &y1, &fy);
    const vf ly = vset1(fy), ly1 = vset1(1.0f - fy);
    for (int ox = 0; ox < out_w; ox++) {
      int x0, x1;
      float fx;
      mnv3_resize_source_index(ox, in_w, out_w, &x0, &x1, &fx);
      const vf lx = vset1(fx), lx1 = vset1(1.0f - fx);
      const float *p00 = in + ((size_t)y0 * in_w + x0) * channels;
      const float *p01 = in + ((size_t)y0 * in_w + x1) * channels;
      const float *p10 = in + ((size_t)y1 * in_w + x0) * channels;
      const float *p11 = in + ((size_t)y1 * in_w + x1) * channels;
      float *o = out + ((size_t)(oy - row_begin) * out_w + ox) * channels;
      int c = 0;
      for (; c + VW <= channels; c += VW)
        vstore(o + c, resize_blend(vload(p00 + c), vload(p01 + c), vload(p10 + c),
                                   vload(p11 + c), lx, lx1, ly, ly1));
      if (c < channels) {
        const int n = channels - c;
        vstore_n(o + c,
                 resize_blend(vload_n(p00 + c, n), vload_n(p01 + c, n), vload_n(p10 + c, n),
                              vload_n(p11 + c, n), lx, lx1, ly, ly1),
                 n);
      }
    }
  }
}

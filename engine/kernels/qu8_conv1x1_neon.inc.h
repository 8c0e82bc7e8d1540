/* Template: 8-bit 1x1 convolution (a GEMM over pixels) for AArch64 NEON,
 * exact: products and sums in int32, the input zero point folded into a
 * per-channel correction at packing (sum (x - z) w = sum x' w + c sum w,
 * with x' the input as the step reads it). A register tile of GEMM_MR
 * pixels x 8 output channels starts from the correction and accumulates
 * 8 input channels per step.
 *
 * The including file defines, before including it:
 *   W_TYPE             the packed weights' type (int16_t, or int8_t for sdot)
 *   W_OFFSET(j, k)     where the weight of output channel j (0..7) of a block
 *                      and input channel k goes in the block's weights
 *   CORRECTION(z)      c above, for input zero point z
 *   gemm_step(mr, acc, x, w)  acc[r][0..1] (channels 0-3, 4-7) += the 8
 *                      input bytes x[r] of each of mr pixels times the
 *                      block's weights w of one step
 *
 * Packed as qu8_conv1x1_pack.inc.h says. It defines its mnv3_qconv_kernel
 * from packed_size, pack, run and OC_BLOCK. */
#include "qu8_epilogue_neon.h"

#define OC_BLOCK 8
#define K_STEP 8
#define GEMM_MR 4
/* Weight bytes of a chunk of blocks that one pixel tile after another
   reuse from L1. */
#define CHUNK_BYTES 16384

#include "qu8_conv1x1_pack.inc.h"

/* mr pixels starting at p (input rows[r], their last partial step in
   tails[r]) x the 8 channels from oc. */
static inline __attribute__((always_inline)) void
tile(const int mr, const mnv3_qconv_args *a, const uint8_t *const rows[GEMM_MR],
     const uint8_t tails[GEMM_MR][K_STEP], size_t full_steps, int has_tail, const W_TYPE *w,
     const int32_t *corr, const float *scale, const float *bias, size_t p, int oc,
     const vepilogue *e) {
  int32x4_t acc[GEMM_MR][2];
  uint8x8_t x[GEMM_MR];
#pragma GCC unroll 4
  for (int r = 0; r < mr; r++) {
    acc[r][0] = vld1q_s32(corr + oc);
    acc[r][1] = vld1q_s32(corr + oc + 4);
  }
  for (size_t s = 0; s < full_steps; s++) {
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
      x[r] = vld1_u8(rows[r] + s * K_STEP);
    gemm_step(mr, acc, x, w + s * OC_BLOCK * K_STEP);
  }
  if (has_tail) {
#pragma GCC unroll 4
    for (int r = 0; r < mr; r++)
      x[r] = vld1_u8(tails[r]);
    gemm_step(mr, acc, x, w + full_steps * OC_BLOCK * K_STEP);
  }
  const int n = a->out_c - oc < OC_BLOCK ? a->out_c - oc : OC_BLOCK;
#pragma GCC unroll 4
  for (int r = 0; r < mr; r++)
    q_finish8(a, acc[r][0], acc[r][1], scale + oc, bias + oc, (p + r) * a->out_c + oc, n, e);
}

static void run(const mnv3_qconv_args *a, int row_begin, int row_end) {
  const int in_c = a->in_c;
  const size_t ocp = round_up((size_t)a->out_c, OC_BLOCK), kp = round_up((size_t)in_c, K_STEP);
  const size_t full_steps = (size_t)in_c / K_STEP;
  const int rem = in_c % K_STEP;
  const float *scale = a->packed, *bias = scale + ocp;
  const int32_t *corr = (const int32_t *)(bias + ocp);
  const W_TYPE *weights = (const W_TYPE *)(corr + ocp);
  const size_t block_size = OC_BLOCK * kp, block_bytes = block_size * sizeof(W_TYPE);
  const int chunk = CHUNK_BYTES / block_bytes > 1 ? (int)(CHUNK_BYTES / block_bytes) : 1;
  const vepilogue e = q_epilogue(a);
  const size_t p_begin = (size_t)row_begin * a->out_w, p_end = (size_t)row_end * a->out_w;
  const int b_begin = a->oc_begin / OC_BLOCK, b_end = (a->oc_end + OC_BLOCK - 1) / OC_BLOCK;
  const uint8_t *rows[GEMM_MR];
  uint8_t tails[GEMM_MR][K_STEP] = {{0}};
  for (int b0 = b_begin; b0 < b_end; b0 += chunk) {
    const int b1 = b0 + chunk < b_end ? b0 + chunk : b_end;
    for (size_t p = p_begin; p < p_end; p += GEMM_MR) {
      const int mr = p_end - p < GEMM_MR ? (int)(p_end - p) : GEMM_MR;
      for (int r = 0; r < mr; r++) {
        rows[r] = a->input + (p + r) * in_c;
        /* Bytes past in_c read as 0 (their weights are 0): a step never
           reads past the input. */
        memcpy(tails[r], rows[r] + full_steps * K_STEP, (size_t)rem);
      }
      for (int blk = b0; blk < b1; blk++) {
        const W_TYPE *w = weights + (size_t)blk * block_size;
        const int oc = blk * OC_BLOCK;
        if (mr == 4)
          tile(4, a, rows, tails, full_steps, rem, w, corr, scale, bias, p, oc, &e);
        else if (mr == 3)
          tile(3, a, rows, tails, full_steps, rem, w, corr, scale, bias, p, oc, &e);
        else if (mr == 2)
          tile(2, a, rows, tails, full_steps, rem, w, corr, scale, bias, p, oc, &e);
        else
          tile(1, a, rows, tails, full_steps, rem, w, corr, scale, bias, p, oc, &e);
      }
    }
  }
}

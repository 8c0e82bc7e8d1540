/* A loaded model: config, compiled plan with packed weights. Immutable after
 * load, shared by reference count. */
#include "model.h"

#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
  const size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int mnv3_weights_load(const char *path, mnv3_network *net, mnv3_error *error) {
  if (ends_with(path, ".tflite"))
    return mnv3_tflite_load(path, net, error);
  return mnv3_safetensors_load(path, net, error);
}

/* Distinct colours for classes when the config names no palette: hues
 * spread by the golden ratio, class 0 (background by convention) black. */
static void default_colors(uint8_t colors[256][3]) {
  colors[0][0] = colors[0][1] = colors[0][2] = 0;
  for (int c = 1; c < 256; c++) {
    const double h = fmod(c * 0.618033988749895, 1.0) * 6.0;
    const double f = h - floor(h);
    const double v = 1.0, s = 0.75, p = v * (1 - s), q = v * (1 - s * f),
                 t = v * (1 - s * (1 - f));
    double rgb[3];
    switch ((int)h) {
    case 0: rgb[0] = v; rgb[1] = t; rgb[2] = p; break;
    case 1: rgb[0] = q; rgb[1] = v; rgb[2] = p; break;
    case 2: rgb[0] = p; rgb[1] = v; rgb[2] = t; break;
    case 3: rgb[0] = p; rgb[1] = q; rgb[2] = v; break;
    case 4: rgb[0] = t; rgb[1] = p; rgb[2] = v; break;
    default: rgb[0] = v; rgb[1] = p; rgb[2] = q; break;
    }
    for (int i = 0; i < 3; i++)
      colors[c][i] = (uint8_t)lround(rgb[i] * 255.0);
  }
}

/* An 8-bit plan quantizes the input for its stem: a network with no range
   of its own (not a quantized graph) takes the range of every pixel the
   config's normalization makes, (0..1 - mean) / std, so that no photo's
   pixel saturates. */
static void input_range_of_pixels(const mnv3_config *config, mnv3_network *net) {
  if (isfinite(net->input_lo) && isfinite(net->input_hi))
    return;
  float lo = INFINITY, hi = -INFINITY;
  for (int c = 0; c < 3; c++) {
    const float black = (0.0f - config->mean[c]) / config->std[c];
    const float white = (1.0f - config->mean[c]) / config->std[c];
    lo = fminf(lo, fminf(black, white));
    hi = fmaxf(hi, fmaxf(black, white));
  }
  net->input_lo = lo;
  net->input_hi = hi;
}

int mnv3_network_load(const mnv3_config *config, const char *weights, mnv3_network *net,
                      mnv3_error *error) {
  if (!weights)
    weights = config->weights_path;
  if (!weights && config->weights_error)
    return mnv3_fail(error, "%s", config->weights_error);
  if (!weights)
    return mnv3_fail(error, "%s: no weights: set model.weights in the config or pass a "
                            "weights file", config->path);
  if (mnv3_network_build(config, net, error) < 0)
    return -1;
  net->act_ranges = config->ranges;
  if (config->num_ranges && config->num_ranges != net->num_ops)
    mnv3_fail(error, "%s: activation-ranges has %d ranges where %s has %d activations; "
                     "make the config again with mnv3-run --quantize",
              config->path, config->num_ranges, config->architecture, net->num_ops);
  else if (mnv3_weights_load(weights, net, error) == 0) {
    if (config->int8)
      input_range_of_pixels(config, net);
    return 0;
  }
  mnv3_network_clear(net);
  return -1;
}

mnv3_model *mnv3_model_load(const char *config_path, const char *weights_override,
                            mnv3_error *error) {
  mnv3_model *model = calloc(1, sizeof *model);
  if (!model) {
    mnv3_fail(error, "out of memory loading %s", config_path);
    return NULL;
  }
  atomic_init(&model->refcount, 1);
  if (mnv3_config_load(config_path, &model->config, error) < 0) {
    free(model);
    return NULL;
  }
  mnv3_network net;
  if (mnv3_network_load(&model->config, weights_override, &net, error) == 0) {
    if (mnv3_plan_compile(&net, mnv3_kernels_get(), model->config.int8 ? MNV3_PLAN_INT8 : 0,
                          &model->plan, error) == 0) {
      model->task = net.task;
      model->input_lo = net.input_lo;
      model->input_hi = net.input_hi;
      mnv3_network_clear(&net);
      model->class_offset = model->config.background_class ? 1 : 0;
      default_colors(model->colors);
      if (model->config.has_palette)
        memcpy(model->colors, model->config.palette,
               (size_t)model->config.palette_size * 3);
      return model;
    }
    mnv3_network_clear(&net);
  }
  mnv3_config_clear(&model->config);
  free(model);
  return NULL;
}

mnv3_model *mnv3_model_ref(mnv3_model *model) {
  atomic_fetch_add(&model->refcount, 1);
  return model;
}

void mnv3_model_unref(mnv3_model *model) {
  if (!model || atomic_fetch_sub(&model->refcount, 1) != 1)
    return;
  mnv3_plan_clear(&model->plan);
  mnv3_config_clear(&model->config);
  free(model);
}

mnv3_task mnv3_model_task(const mnv3_model *model) { return model->task; }

const char *mnv3_model_architecture(const mnv3_model *model) {
  return model->config.architecture;
}

const char *mnv3_model_name(const mnv3_model *model) { return model->config.name; }

int mnv3_model_num_classes(const mnv3_model *model) {
  return model->config.num_classes - model->class_offset;
}

const char *mnv3_model_label(const mnv3_model *model, int class_id) {
  if (!model->config.labels || class_id < 0 || class_id >= model->config.num_labels)
    return NULL;
  return model->config.labels[class_id];
}

void mnv3_model_input_size(const mnv3_model *model, int *height, int *width) {
  *height = model->config.input_height;
  *width = model->config.input_width;
}

void mnv3_model_class_color(const mnv3_model *model, int class_id, uint8_t rgb[3]) {
  memcpy(rgb, model->colors[class_id & 255], 3);
}

mnv3_rect mnv3_model_frame_crop(const mnv3_model *model, int width, int height) {
  return mnv3_centre_crop(width, height, model->config.crop);
}

const char *mnv3_model_precision(const mnv3_model *model) {
  return model->plan.int8 ? "int8" : "fp32";
}

const char *mnv3_isa_name(void) { return mnv3_kernels_get()->isa; }

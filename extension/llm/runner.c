/* See runner.h. */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"

#include "sampler.h"
#include "tokenizer.h"

#include <edgetorch/module.h>
#include <edgetorch/program.h>
#include <edgetorch/method.h>

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct et_llm_runner {
  et_module *mod;
  et_tokenizer *tok;
  et_method *forward;
  et_llm_info info;
  void *sample_scratch;
  size_t sample_scratch_bytes;
  int64_t *tokens; /* one forward call's tokens (chunk) */
  size_t chunk;    /* prompt tokens one forward call takes */
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t peak_rss(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (size_t)ru.ru_maxrss * 1024u; /* Linux: kilobytes */
}

static int has_method(const et_program *p, const char *name) {
  for (size_t i = 0; i < et_program_method_count(p); i++) {
    const char *n = et_program_method_name(p, i);
    if (n && strcmp(n, name) == 0) return 1;
  }
  return 0;
}

/* The Int/Bool outputs of constant method `name` into out[0..cap); their
 * count in *n. Absent method: *n = 0 and ET_OK. */
static et_status constant_ints(et_llm_runner *r, const char *name, int64_t *out, size_t cap,
                               size_t *n, et_diag *diag) {
  *n = 0;
  if (!has_method(et_module_program(r->mod), name)) return ET_OK;
  et_method *m = NULL;
  et_status st = et_module_method(r->mod, name, &m, diag);
  if (st == ET_OK) st = et_module_execute(r->mod, name, diag);
  if (st != ET_OK) return st;
  size_t outs = et_method_output_count(m);
  for (size_t i = 0; i < outs && *n < cap; i++) {
    const et_value *v = et_method_output(m, i);
    if (v->tag == ET_TAG_INT) {
      out[(*n)++] = v->u.i;
    } else if (v->tag == ET_TAG_BOOL) {
      out[(*n)++] = v->u.b ? 1 : 0;
    } else {
      return et_diag_set(diag, ET_INVALID_PROGRAM,
                         "%s: output %u is not an int or a bool: not an LLM program's "
                         "constant method", name, (unsigned)i);
    }
  }
  return ET_OK;
}

static et_status read_info(et_llm_runner *r, et_diag *diag) {
  et_llm_info *I = &r->info;
  const et_program *p = et_module_program(r->mod);
  if (!has_method(p, "forward") || !has_method(p, "get_max_seq_len"))
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "not an LLM program: it needs a 'forward' method and the constant "
                       "method 'get_max_seq_len' (edgetorch llm export writes both)");
  int64_t v[ET_LLM_MAX_EOS];
  size_t n;
  et_status st;
#define ONE(name, field, dflt)                                                  \
  if ((st = constant_ints(r, name, v, ET_LLM_MAX_EOS, &n, diag)) != ET_OK) return st; \
  I->field = n ? v[0] : (dflt)
  ONE("get_max_seq_len", max_seq_len, 0);
  ONE("get_max_context_len", max_context_len, I->max_seq_len);
  ONE("get_vocab_size", vocab_size, 0);
  ONE("get_bos_id", bos_id, -1);
  ONE("use_kv_cache", use_kv_cache, 1);
  ONE("enable_dynamic_shape", dynamic_shape, 0);
#undef ONE
  if ((st = constant_ints(r, "get_eos_ids", I->eos_ids, ET_LLM_MAX_EOS, &I->n_eos, diag)))
    return st;
  if (I->max_seq_len < 1 || I->max_context_len < I->max_seq_len)
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "get_max_seq_len %lld and get_max_context_len %lld do not make sense "
                       "(want 1 <= max_seq_len <= max_context_len)",
                       (long long)I->max_seq_len, (long long)I->max_context_len);
  if (!I->use_kv_cache)
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "use_kv_cache is false: this runner drives programs with a KV cache");
  /* forward's signature */
  et_method_meta meta;
  if ((st = et_program_method_meta(p, "forward", et_module_registry(r->mod), &meta, diag)))
    return st;
  et_io_info in0, in1, out0;
  if (meta.n_inputs != 2 || meta.n_outputs < 1 ||
      et_method_meta_input(&meta, 0, &in0) || et_method_meta_input(&meta, 1, &in1) ||
      et_method_meta_output(&meta, 0, &out0) || in0.tag != ET_TAG_TENSOR ||
      in1.tag != ET_TAG_TENSOR || out0.tag != ET_TAG_TENSOR || in0.tensor.dtype != ET_LONG ||
      in0.tensor.rank != 2 || in1.tensor.dtype != ET_LONG || in1.tensor.rank != 1)
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "not an LLM program: forward must take (tokens Long [1, S], input_pos "
                       "Long [1]) and return the logits (it takes %u inputs, returns %u "
                       "outputs)", (unsigned)meta.n_inputs, (unsigned)meta.n_outputs);
  if (out0.tensor.dtype != ET_FLOAT)
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "forward returns %s logits: this runner reads Float logits",
                       et_dtype_name(out0.tensor.dtype));
  if (out0.tensor.rank != 2 && out0.tensor.rank != 3)
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "forward's logits have rank %u: want [1, vocab] or [1, S, vocab]",
                       (unsigned)out0.tensor.rank);
  I->full_logits = out0.tensor.rank == 3;
  int64_t vocab = out0.tensor.sizes[out0.tensor.rank - 1];
  if (I->vocab_size == 0) I->vocab_size = vocab;
  if (I->vocab_size != vocab)
    return et_diag_set(diag, ET_INVALID_PROGRAM,
                       "get_vocab_size says %lld but forward's logits have %lld",
                       (long long)I->vocab_size, (long long)vocab);
  /* Prefill chunks: up to the dynamic length's bound; without a dynamic
   * length, one token at a time (as upstream's runner), which a static
   * forward must then take. */
  if (!I->dynamic_shape && in0.tensor.sizes[1] != 1)
    return et_diag_set(diag, ET_NOT_SUPPORTED,
                       "forward takes exactly %d tokens a call and enable_dynamic_shape is "
                       "false: this runner feeds such programs one token at a time",
                       (int)in0.tensor.sizes[1]);
  r->chunk = I->dynamic_shape ? (size_t)I->max_seq_len : 1u;
  if (r->chunk > (size_t)in0.tensor.sizes[1]) r->chunk = (size_t)in0.tensor.sizes[1];
  return ET_OK;
}

et_status et_llm_runner_load(const char *model_path, const char *tokenizer_path,
                             uint32_t threads, et_llm_runner **out, et_diag *diag) {
  *out = NULL;
  et_llm_runner *r = calloc(1, sizeof *r);
  if (!r) return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "cannot allocate a runner");
  et_status st = et_module_load_file(model_path, ET_LOAD_MMAP, &r->mod, diag);
  if (st == ET_OK) st = et_module_set_num_threads(r->mod, threads);
  if (st == ET_OK) st = read_info(r, diag);
  if (st == ET_OK) st = et_module_method(r->mod, "forward", &r->forward, diag);
  if (st == ET_OK) st = et_tokenizer_load_file(tokenizer_path, &r->tok, diag);
  if (st == ET_OK && et_tokenizer_vocab_size(r->tok) > (uint64_t)r->info.vocab_size)
    st = et_diag_set(diag, ET_INVALID_ARGUMENT,
                     "the tokenizer has %u tokens but the program's vocabulary %lld: they "
                     "do not belong together", et_tokenizer_vocab_size(r->tok),
                     (long long)r->info.vocab_size);
  if (st == ET_OK) {
    int32_t bos = r->info.bos_id >= 0 ? (int32_t)r->info.bos_id : et_tokenizer_bos_id(r->tok);
    int32_t eos = r->info.n_eos ? (int32_t)r->info.eos_ids[0] : et_tokenizer_eos_id(r->tok);
    if (bos >= (int64_t)et_tokenizer_vocab_size(r->tok)) bos = -1;
    if (eos >= (int64_t)et_tokenizer_vocab_size(r->tok)) eos = -1;
    st = et_tokenizer_set_bos_eos(r->tok, bos, eos);
    if (st) et_diag_set(diag, st, "the program's BOS/EOS ids do not fit the tokenizer");
    r->info.bos_id = bos;
    if (!r->info.n_eos && eos >= 0) r->info.eos_ids[r->info.n_eos++] = eos;
  }
  if (st == ET_OK) {
    r->sample_scratch_bytes = et_sampler_scratch_size((size_t)r->info.vocab_size);
    r->sample_scratch = malloc(r->sample_scratch_bytes ? r->sample_scratch_bytes : 1);
    r->tokens = malloc(sizeof(int64_t) * (r->chunk ? r->chunk : 1));
    if (!r->sample_scratch || !r->tokens)
      st = et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "cannot allocate the runner's buffers");
  }
  if (st != ET_OK) {
    et_llm_runner_free(r);
    return st;
  }
  *out = r;
  return ET_OK;
}

void et_llm_runner_free(et_llm_runner *r) {
  if (!r) return;
  if (r->tok) et_tokenizer_free(r->tok);
  if (r->mod) et_module_free(r->mod);
  free(r->sample_scratch);
  free(r->tokens);
  free(r);
}

const et_llm_info *et_llm_runner_info(const et_llm_runner *r) { return &r->info; }

void et_llm_options_default(et_llm_options *o) {
  memset(o, 0, sizeof *o);
  o->max_new_tokens = -1;
  o->add_bos = -1;
  o->stop_eos = 1;
}

et_status et_llm_encode(et_llm_runner *r, const char *prompt, size_t prompt_len, int add_bos,
                        int32_t **out_ids, size_t *n_out, et_diag *diag) {
  int bos = add_bos < 0 ? r->info.bos_id >= 0 : add_bos;
  return et_tokenizer_encode(r->tok, prompt, prompt_len, bos, out_ids, n_out, diag);
}

/* One forward call on tokens[0..n) at position pos; *logits: the last
 * position's row. */
static et_status forward(et_llm_runner *r, const int64_t *tokens, size_t n, int64_t pos,
                         const float **logits, et_diag *diag) {
  const int64_t tsz[2] = {1, (int64_t)n}, psz[1] = {1};
  et_status st = et_method_set_input_tensor(r->forward, 0, ET_LONG, 2, tsz, tokens,
                                            n * sizeof(int64_t));
  if (st == ET_OK)
    st = et_method_set_input_tensor(r->forward, 1, ET_LONG, 1, psz, &pos, sizeof pos);
  if (st != ET_OK)
    return et_diag_set(diag, st, "forward's inputs: %s", et_method_message(r->forward));
  if ((st = et_module_execute(r->mod, "forward", diag)) != ET_OK) return st;
  const et_value *v = et_method_output(r->forward, 0);
  if (!v || v->tag != ET_TAG_TENSOR || v->u.t->dtype != ET_FLOAT || !v->u.t->data)
    return et_diag_set(diag, ET_INVALID_PROGRAM, "forward returned no Float logits");
  const et_tensor *t = v->u.t;
  int64_t vocab = t->sizes[t->rank - 1], rows = 1;
  for (uint32_t d = 0; d + 1 < t->rank; d++) rows *= t->sizes[d];
  if (vocab != r->info.vocab_size || rows < 1)
    return et_diag_set(diag, ET_INVALID_PROGRAM, "forward's logits changed shape");
  *logits = (const float *)t->data + (size_t)(rows - 1) * (size_t)vocab;
  return ET_OK;
}

static int is_eos(const et_llm_runner *r, int32_t id) {
  for (size_t i = 0; i < r->info.n_eos; i++)
    if (r->info.eos_ids[i] == id) return 1;
  return 0;
}

et_status et_llm_generate(et_llm_runner *r, const char *prompt, size_t prompt_len,
                          const et_llm_options *opts, et_llm_text_fn on_text, void *user,
                          et_llm_stats *stats, int32_t **out_ids, size_t *n_out,
                          et_diag *diag) {
  et_llm_options dflt;
  if (!opts) {
    et_llm_options_default(&dflt);
    opts = &dflt;
  }
  et_llm_stats S;
  memset(&S, 0, sizeof S);
  if (out_ids) *out_ids = NULL;
  if (n_out) *n_out = 0;
  const et_llm_info *I = &r->info;
  et_sampler sampler;
  et_status st = et_sampler_init(&sampler, (size_t)I->vocab_size, opts->temperature,
                                 opts->top_k, opts->top_p, opts->seed, diag);
  if (st) return st;
  int32_t *prompt_ids = NULL;
  size_t n_prompt = 0;
  if ((st = et_llm_encode(r, prompt, prompt_len, opts->add_bos, &prompt_ids, &n_prompt, diag)))
    return st;
  if (n_prompt == 0) {
    free(prompt_ids);
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "the prompt encodes to no tokens (and no BOS is added)");
  }
  if ((int64_t)n_prompt >= I->max_context_len) {
    free(prompt_ids);
    return et_diag_set(diag, ET_INVALID_ARGUMENT,
                       "the prompt is %zu tokens but the context holds %lld: shorten it, or "
                       "export with a larger --max-context-len", n_prompt,
                       (long long)I->max_context_len);
  }
  size_t budget = (size_t)(I->max_context_len - (int64_t)n_prompt);
  if (opts->max_new_tokens >= 0 && (size_t)opts->max_new_tokens < budget)
    budget = (size_t)opts->max_new_tokens;
  int32_t *gen = malloc(sizeof(int32_t) * (budget ? budget : 1));
  size_t text_cap = et_token_stream_max_bytes(r->tok);
  char *text = malloc(text_cap ? text_cap : 1);
  if (!gen || !text) {
    free(prompt_ids);
    free(gen);
    free(text);
    return et_diag_set(diag, ET_MEMORY_ALLOCATION_FAILED, "cannot allocate generation buffers");
  }
  et_token_stream stream;
  et_token_stream_init(&stream, r->tok, 1);
  size_t n_gen = 0;
  int stop = 0;
  const float *logits = NULL;

  /* prefill */
  double t0 = now_s();
  size_t chunk = r->chunk;
  int64_t pos = 0;
  for (size_t i = 0; i < n_prompt && st == ET_OK; i += chunk) {
    size_t n = n_prompt - i < chunk ? n_prompt - i : chunk;
    for (size_t k = 0; k < n; k++) r->tokens[k] = prompt_ids[i + k];
    st = forward(r, r->tokens, n, pos, &logits, diag);
    pos += (int64_t)n;
  }
  int32_t next = -1;
  if (st == ET_OK && budget > 0)
    st = et_sampler_sample(&sampler, logits, r->sample_scratch, r->sample_scratch_bytes, &next,
                           diag);
  double t1 = now_s();
  S.prefill_s = S.ttft_s = t1 - t0;

  /* decode: `next` is sampled and not yet fed back */
  while (st == ET_OK && n_gen < budget && !stop) {
    gen[n_gen++] = next;
    if (opts->stop_eos && is_eos(r, next)) {
      S.stopped_on_eos = 1;
      break;
    }
    size_t len = 0;
    if ((st = et_token_stream_push(&stream, next, text, text_cap, &len)) != ET_OK) {
      et_diag_set(diag, st, "cannot decode token %d", (int)next);
      break;
    }
    if (len && on_text && on_text(user, text, len)) stop = 1;
    if (n_gen == budget || stop) break;
    r->tokens[0] = next;
    if ((st = forward(r, r->tokens, 1, pos, &logits, diag)) != ET_OK) break;
    pos++;
    st = et_sampler_sample(&sampler, logits, r->sample_scratch, r->sample_scratch_bytes, &next,
                           diag);
  }
  if (st == ET_OK) {
    size_t len = 0;
    st = et_token_stream_flush(&stream, text, text_cap, &len);
    if (st == ET_OK && len && on_text) on_text(user, text, len);
  }
  double t2 = now_s();
  S.decode_s = t2 - t1;
  S.prompt_tokens = n_prompt;
  S.generated_tokens = n_gen;
  S.prefill_tokens_per_s = S.prefill_s > 0 ? (double)n_prompt / S.prefill_s : 0.0;
  /* decode speed: the forward calls after the first token */
  S.decode_tokens_per_s = n_gen > 1 && S.decode_s > 0 ? (double)(n_gen - 1) / S.decode_s : 0.0;
  S.peak_rss_bytes = peak_rss();
  if (stats) *stats = S;
  free(prompt_ids);
  free(text);
  if (st == ET_OK && out_ids) {
    *out_ids = gen;
    if (n_out) *n_out = n_gen;
  } else {
    free(gen);
  }
  return st;
}

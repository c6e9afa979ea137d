/*
 * edgetorch-llm: generate text with an LLM program (extension/llm/runner.h).
 *
 *   edgetorch-llm --model M.pte --tokenizer T --prompt "..." \
 *                 [--max-new-tokens N] [--temperature T] [--top-k K]
 *                 [--top-p P] [--seed S] [--threads N] [--json]
 *
 * Exit status: 0 on success, 1 on a runtime failure (bad program, bad
 * tokenizer, prompt too long), 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"

#include <edgetorch/status.h>

#include "file_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static const char USAGE[] =
    "usage: edgetorch-llm --model MODEL.pte --tokenizer TOKENIZER --prompt TEXT [options]\n"
    "\n"
    "Generate text with an LLM program (edgetorch llm export, or upstream's\n"
    "llama export) and its tokenizer (tokenizer.json or a SentencePiece\n"
    "tokenizer.model).\n"
    "\n"
    "options:\n"
    "  --prompt TEXT        the prompt (or --prompt-file FILE)\n"
    "  --prompt-file FILE   read the prompt from FILE\n"
    "  --max-new-tokens N   tokens to generate at most (default: until EOS or\n"
    "                       the end of the context)\n"
    "  --temperature T      0 (default): greedy; otherwise sample\n"
    "  --top-k K            sample among the K most likely tokens (0: all)\n"
    "  --top-p P            sample within the top-p probability mass (0 or 1: off)\n"
    "  --seed S             the sampler's seed (default 0)\n"
    "  --threads N          runtime threads (default: the CPUs this process may use)\n"
    "  --no-bos             do not put the BOS token before the prompt\n"
    "  --ignore-eos         keep generating past EOS tokens (benchmarks)\n"
    "  --json               print one JSON object: prompt_tokens, generated_tokens,\n"
    "                       text, ttft_ms, prefill_tokens_per_s,\n"
    "                       decode_tokens_per_s, peak_rss_bytes, stopped_on_eos\n"
    "  --help               this text\n";

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "edgetorch-llm: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(see edgetorch-llm --help)\n");
  return EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !end || *end || end == s || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

static int parse_float(const char *s, float lo, float hi, float *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || !end || *end || end == s || !(v >= lo && v <= hi)) return 0;
  *out = (float)v;
  return 1;
}

typedef struct text_buf {
  char *data;
  size_t len, cap;
  int json;
} text_buf;

static int on_text(void *user, const char *text, size_t len) {
  text_buf *b = (text_buf *)user;
  if (!b->json) {
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
  }
  if (b->len + len > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 4096) + len;
    char *nd = realloc(b->data, cap);
    if (!nd) return 1;
    b->data = nd;
    b->cap = cap;
  }
  memcpy(b->data + b->len, text, len);
  b->len += len;
  return 0;
}

static void json_string(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      printf("\\%c", c);
    } else if (c == '\n') {
      fputs("\\n", stdout);
    } else if (c == '\t') {
      fputs("\\t", stdout);
    } else if (c == '\r') {
      fputs("\\r", stdout);
    } else if (c < 0x20 || c == 0x7f) {
      printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

int main(int argc, char **argv) {
  const char *model = NULL, *tokenizer = NULL, *prompt = NULL, *prompt_file = NULL;
  et_llm_options opts;
  et_llm_options_default(&opts);
  long threads = 0;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(USAGE, stdout);
      return 0;
    }
    if (strcmp(a, "--json") == 0) {
      json = 1;
      continue;
    }
    if (strcmp(a, "--no-bos") == 0) {
      opts.add_bos = 0;
      continue;
    }
    if (strcmp(a, "--ignore-eos") == 0) {
      opts.stop_eos = 0;
      continue;
    }
    if (i + 1 >= argc) return usage_error("%s needs a value", a);
    const char *v = argv[++i];
    long l;
    if (strcmp(a, "--model") == 0) {
      model = v;
    } else if (strcmp(a, "--tokenizer") == 0) {
      tokenizer = v;
    } else if (strcmp(a, "--prompt") == 0) {
      prompt = v;
    } else if (strcmp(a, "--prompt-file") == 0) {
      prompt_file = v;
    } else if (strcmp(a, "--max-new-tokens") == 0) {
      if (!parse_long(v, 0, INT32_MAX, &l))
        return usage_error("--max-new-tokens wants an integer >= 0, got '%s'", v);
      opts.max_new_tokens = (int32_t)l;
    } else if (strcmp(a, "--temperature") == 0) {
      if (!parse_float(v, 0.0f, 1e6f, &opts.temperature))
        return usage_error("--temperature wants a number >= 0, got '%s'", v);
    } else if (strcmp(a, "--top-k") == 0) {
      if (!parse_long(v, 0, INT32_MAX, &l))
        return usage_error("--top-k wants an integer >= 0, got '%s'", v);
      opts.top_k = (int32_t)l;
    } else if (strcmp(a, "--top-p") == 0) {
      if (!parse_float(v, 0.0f, 1.0f, &opts.top_p))
        return usage_error("--top-p wants a number in [0, 1], got '%s'", v);
    } else if (strcmp(a, "--seed") == 0) {
      char *end = NULL;
      errno = 0;
      unsigned long long s = strtoull(v, &end, 10);
      if (errno || !end || *end || end == v || v[0] == '-')
        return usage_error("--seed wants an integer >= 0, got '%s'", v);
      opts.seed = (uint64_t)s;
    } else if (strcmp(a, "--threads") == 0) {
      if (!parse_long(v, 1, 1024, &threads))
        return usage_error("--threads wants an integer from 1 to 1024, got '%s'", v);
    } else {
      return usage_error("unknown option '%s'", a);
    }
  }
  if (!model) return usage_error("%s", "--model is required");
  if (!tokenizer) return usage_error("%s", "--tokenizer is required");
  if (!prompt == !prompt_file) return usage_error("%s", "give one of --prompt and --prompt-file");

  et_diag diag;
  et_diag_clear(&diag);
  et_file_data file = {0};
  size_t prompt_len = prompt ? strlen(prompt) : 0;
  if (prompt_file) {
    et_status fst = et_file_read(prompt_file, &file, &diag);
    if (fst != ET_OK) {
      fprintf(stderr, "edgetorch-llm: error: %s: %s\n", et_status_name(fst), diag.message);
      return 1;
    }
    prompt = (const char *)file.data;
    prompt_len = file.size;
  }

  et_llm_runner *r = NULL;
  et_status st = et_llm_runner_load(model, tokenizer, (uint32_t)threads, &r, &diag);
  if (st != ET_OK) {
    fprintf(stderr, "edgetorch-llm: error: %s: %s\n", et_status_name(st),
            diag.message[0] ? diag.message : "cannot load the model or tokenizer");
    et_file_release(&file);
    return 1;
  }
  text_buf out = {NULL, 0, 0, json};
  et_llm_stats stats;
  st = et_llm_generate(r, prompt, prompt_len, &opts, on_text, &out, &stats, NULL, NULL, &diag);
  et_file_release(&file);
  if (st != ET_OK) {
    if (!json) putchar('\n');
    fprintf(stderr, "edgetorch-llm: error: %s: %s\n", et_status_name(st), diag.message);
    free(out.data);
    et_llm_runner_free(r);
    return 1;
  }
  if (json) {
    printf("{\"prompt_tokens\": %zu, \"generated_tokens\": %zu, \"text\": ",
           stats.prompt_tokens, stats.generated_tokens);
    json_string(out.data ? out.data : "", out.len);
    printf(", \"ttft_ms\": %.3f, \"prefill_tokens_per_s\": %.3f, "
           "\"decode_tokens_per_s\": %.3f, \"peak_rss_bytes\": %zu, "
           "\"stopped_on_eos\": %s}\n",
           stats.ttft_s * 1e3, stats.prefill_tokens_per_s, stats.decode_tokens_per_s,
           stats.peak_rss_bytes, stats.stopped_on_eos ? "true" : "false");
  } else {
    putchar('\n');
    fprintf(stderr,
            "prompt %zu tokens, generated %zu; time to first token %.1f ms, prefill %.1f "
            "tokens/s, decode %.1f tokens/s, peak memory %.1f MiB\n",
            stats.prompt_tokens, stats.generated_tokens, stats.ttft_s * 1e3,
            stats.prefill_tokens_per_s, stats.decode_tokens_per_s,
            (double)stats.peak_rss_bytes / (1024.0 * 1024.0));
  }
  free(out.data);
  et_llm_runner_free(r);
  return 0;
}

/* fuzz_sla_offer.c: libFuzzer target for the sla contract's offer arguments
 * (ef_sla_offer_parse): the input is the JSON args text. Whatever it holds, the
 * parser returns 0 with every field in its documented range, or EF_EARGS /
 * EF_EOVERFLOW with a zeroed offer; an accepted offer printed back as JSON
 * parses to the same offer. */
#include <stdlib.h>
#include <string.h>

#include "contracts/ef_sla.h"

static json_t *fz_offer_json(const ef_sla_offer *o)
{
    json_t *area = json_array();
    for (size_t i = 0; i < o->area_len; i++) json_array_append_new(area, json_string(o->area[i]));
    return json_pack("{s:o, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I}", "area", area,
                     "rules", "min_kbps", (json_int_t)o->rules.min_kbps, "max_latency_us",
                     (json_int_t)o->rules.max_latency_us, "max_loss_ppm", (json_int_t)o->rules.max_loss_ppm,
                     "price", (json_int_t)o->price, "epoch_ms", (json_int_t)o->epoch_ms, "max_epochs",
                     (json_int_t)o->max_epochs, "penalty", "min_kbps", (json_int_t)o->penalty_ppm[0],
                     "max_latency_us", (json_int_t)o->penalty_ppm[1], "max_loss_ppm",
                     (json_int_t)o->penalty_ppm[2], "cheat_penalty", (json_int_t)o->cheat_penalty,
                     "confirm_blocks", (json_int_t)o->confirm_blocks, "claim_window_ms",
                     (json_int_t)o->claim_window_ms, "dispute_window_blocks", (json_int_t)o->dispute_window_blocks);
}

static void fz_check_ranges(const ef_sla_offer *o)
{
    EF_ASSERT(o->area_len >= 1 && o->area_len <= EF_SLA_AREA_MAX);
    for (size_t i = 0; i < o->area_len; i++) {
        EF_ASSERT(ef_sla_name_ok(o->area[i]));
        for (size_t k = 0; k < i; k++) EF_ASSERT(strcmp(o->area[i], o->area[k]));
    }
    EF_ASSERT(o->rules.min_kbps >= 1 && o->rules.max_latency_us >= 1 && o->rules.max_loss_ppm <= EF_SLA_PPM);
    for (int i = 0; i < 3; i++) EF_ASSERT(o->penalty_ppm[i] <= EF_SLA_PPM);
    EF_ASSERT(o->price >= 1 && o->epoch_ms >= 1 && o->epoch_ms <= EF_SLA_EPOCH_MS_MAX);
    EF_ASSERT(o->max_epochs >= 1 && o->max_epochs <= EF_SLA_EPOCHS_MAX);
    EF_ASSERT(o->price <= (uint64_t)INT64_MAX / o->max_epochs);
    EF_ASSERT(o->confirm_blocks >= 1 && o->confirm_blocks <= EF_SLA_WINDOW_MAX);
    EF_ASSERT(o->claim_window_ms >= 1 && o->claim_window_ms <= EF_SLA_CLAIM_MS_MAX);
    EF_ASSERT(o->dispute_window_blocks >= 1 && o->dispute_window_blocks <= EF_SLA_WINDOW_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *args = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!args) return 0;
    ef_sla_offer o;
    int rc = ef_sla_offer_parse(args, &o);
    json_decref(args);
    if (rc) {
        static const ef_sla_offer zero;
        EF_ASSERT((rc == EF_EARGS || rc == EF_EOVERFLOW) && memcmp(&o, &zero, sizeof o) == 0);
        return 0;
    }
    fz_check_ranges(&o);
    json_t *back = fz_offer_json(&o);
    EF_ASSERT(back);
    ef_sla_offer again;
    EF_ASSERT(ef_sla_offer_parse(back, &again) == 0 && memcmp(&o, &again, sizeof o) == 0);
    json_decref(back);
    return 0;
}

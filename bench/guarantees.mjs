// Each guarantee malloc0.c keeps, as the patches that remove it from a copy
// of the source: make size-costs (bench/guarantee_cost.mjs) prices each in
// code bytes, and tests/guarantee_patches.test.mjs checks that each still
// applies.  A change to the text a patch names must update the patch.

// The source without the guarantee: each patch's text must occur in it
// once, or the patch would remove the wrong copy.
export function without(source, patches) {
  return patches.reduce((text, [from, to]) => {
    const places = text.split(from).length - 1;
    if (places !== 1) throw new Error(`patch names ${places} places, not one: ${from}`);
    return text.replace(from, to);
  }, source);
}

export const GUARANTEES = {
  'malloc returns NULL when memory.grow fails': [[
    '    if (first == GROW_FAILED) {\n        memory_refused(needed);\n        return 0;\n    }\n    if (first - heap_pages > MAX_GAP_PAGES)\n        return 0;\n', '']],
  'malloc returns NULL for sizes that would wrap around': [
    ['    return n <= MAX_REQUEST ? (tag_t)BLOCK_FOR(n) : 0;', '    return (tag_t)BLOCK_FOR(n);'],
    ['        if (size > NO_STALE - block)\n            return 0;\n', '']],
  'pages others grew are never used (gaps)': [
    ['    if (gap && size + TAG_BYTES > gap->begin - tail)\n        return gap_end(gap) - tail;\n', ''],
    ['    if (first != heap_pages)\n        gap_add(first << PAGE_SHIFT, heap_pages << PAGE_SHIFT);\n', '']],
  'a hole that fits serves a request when memory has run out': [[
    '        if (!hole && !(block = block_append(size, 0)))\n            hole = hole_search(size);',
    '        if (!hole)\n            block = block_append(size, 0);']],
  'free ignores pointers that are not blocks in use': [[
    '    if (!MALLOC0_CHECKS)\n        return p != 0;', '    return p != 0;']],
  'free checks the header after the block as well': [
    ['    tag_t header, next;\n    if (!in_heap(block)', '    tag_t header;\n    if (!in_heap(block)'],
    ['    block += used_size(header);\n    if (block == heap_tail)\n        return 1;\n    next = *tag_at(block);\n' +
     '    return !(next & PREV_FREE) && block_fits(block, tag_size(next));', '    return 1;']],
  'sizes in accepted headers are scrambled (common data never reads as one)': [[
    '#define TAG_KEY (MALLOC0_CHECKS ? (tag_t)0x9e3779b8 : 0)', '#define TAG_KEY 0']],
  'headers retired by resets are erased': [
    ['while (MALLOC0_CHECKS && stale_next < end) {', 'while (0 && stale_next < end) {'],
    ['    if (MALLOC0_CHECKS) {\n        if (stale_next != heap_tail)', '    if (0) {\n        if (stale_next != heap_tail)']],
  'headers of freed and merged blocks are erased': [[
    '    if (MALLOC0_CHECKS)\n        *tag_at(address) = ERASED_TAG;', '    (void)address;']],
  'marks that are not live are ignored': [[
    '    if (!MALLOC0_CHECKS || mark == base_mark)\n        return 1;', '    return 1;']],
  'hardened: a hole is whole before it is taken, split or merged': [['    TRUST(hole_whole(block));\n', '']],
  'hardened: list links point back before an unlink or a link': [
    ['    TRUST(*(link_t *)before == block && links_back(next, (link_t)hole_next(block)));\n', ''],
    ['    TRUST(links_back(next, back));\n', '']],
  'hardened: a scope\'s outer link leads to a live record below it': [[
    '    TRUST(scope_of_mark(outer->floor) == outer && outer->floor < scope->floor);\n', '']],
  'hardened: gap records are sealed': [
    ['    TRUST(gap && gap->seal == gap_seal(gap, gap_passed));\n', ''],
    ['    gap->seal = gap_seal(gap, gap_last);\n', '']],
  'hardened: a mark\'s count of takes agrees with its check word': [
    ['    TRUST(takes_whole(scope));\n', ''],
    ['    scope->takes_check -= n * TAKES_SPREAD;\n', ''],
    ['    scope->takes_check = TAG_KEY;\n', '']],
  'hardened: the retired chain only runs up, below the peak': [[
    '        TRUST(next > stale_next && (next <= peak_tail || next == NO_STALE));\n', '']],
  'a trap leaves the lock broken: threads waiting for it wake and trap (thread-safe build)': [
    ['#define TRUST(fact) (!MALLOC0_CHECKS || (fact) ? (void)0 : heap_break())', '#define TRUST(fact) (!MALLOC0_CHECKS || (fact) ? (void)0 : __builtin_trap())'],
    ['#define break_for(why) (trap_reason = (why), heap_break())', '#define break_for(why) (trap_reason = (why), __builtin_trap())'],
    ['        if (state == LOCK_BROKEN)\n            heap_break();\n        if (++spins', '        if (++spins'],
    ['    while ((state = lock_swap(LOCK_WAITED)) != LOCK_FREE) {\n        if (state == LOCK_BROKEN)\n            heap_break();\n        lock_wait();\n    }',
     '    while (lock_swap(LOCK_WAITED) != LOCK_FREE)\n        lock_wait();'],
    ['    if (lock_state() == LOCK_BROKEN)\n        heap_break();\n    return &caches[', '    return &caches['],
    ['        while (!cache_try(cache))\n            if (lock_state() == LOCK_BROKEN)\n                heap_break();', '        while (!cache_try(cache))\n            ;']],
  'the hardened heap, all of it': [
    ['#define TRUST(fact) (!MALLOC0_CHECKS || (fact) ? (void)0 : heap_break())', '#define TRUST(fact) ((void)0)'],
    ['    gap->seal = gap_seal(gap, gap_last);\n', ''],
    ['    scope->takes_check -= n * TAKES_SPREAD;\n', ''],
    ['    scope->takes_check = TAG_KEY;\n', '']],
  'memory grows by a 64th, not by each need (speed)': [[
    '    if (step <= needed || (first = memory_grow(step)) == GROW_FAILED)\n        first = memory_grow(step = needed);',
    '    first = memory_grow(step = needed);']],
};

/* alloc.h - a per-thread cache of small blocks under cJSON's allocator.
 *
 * An admission rule builds and frees a few dozen small cJSON nodes and
 * strings (the labels and annotations it wants, the env entries it adds;
 * the review itself is parsed into an arena, jsondoc.h). Through plain
 * malloc most of those frees land in glibc's fastbins, and the next large
 * allocation (GnuTLS takes a 16 KiB record buffer per read) consolidates
 * them all again. With these hooks freed blocks of up to 256 bytes go to a
 * list of the freeing thread and are handed out again to that thread, so
 * the steady state makes no malloc calls for cJSON at all.
 *
 * Every block is a real malloc block: memory from cJSON (printed JSON
 * included) may still be released with free(), and the hooks accept any
 * malloc'd block. A thread's cache is freed when the thread exits, the main
 * thread's at exit(); wh_alloc_thread_done releases the calling thread's
 * one. Process-wide: install once, before threads start.
 */
#ifndef WH_ALLOC_H
#define WH_ALLOC_H

void wh_alloc_install(void);
void wh_alloc_thread_done(void);

#endif

/* merge_cmd.h — `msl merge DIR... --out DIR` (merge_cmd.c): the results of
 * `msl run --shard K/N` for every K combined into what one run over all
 * accounts writes (io/merge.h). */
#ifndef MSL_MERGE_CMD_H
#define MSL_MERGE_CMD_H

/* `msl merge ARGS...`: the exit status (0 ok; 2 usage, or the directories
 * are not the shards of one run; 3 a file is not what msl run writes; 4 a
 * file cannot be read or written, or --out is held by a run). */
int merge_cmd_main(int argc, char **argv);

#endif

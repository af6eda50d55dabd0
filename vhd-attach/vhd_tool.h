/* SPDX-License-Identifier: MIT */
/*
 * The verbs of the `vhd` tool that live outside vhd_tool.c: attaching
 * images to the host (vhd_mount_tool.c) and serving them over NBD
 * (vhd_export_tool.c). Each takes the verb's own argv (argv[0] is the verb)
 * and returns the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef VSWITCH_VHD_TOOL_H
#define VSWITCH_VHD_TOOL_H

int vhd_tool_mount(int argc, char **argv);
int vhd_tool_unmount(int argc, char **argv);
int vhd_tool_export(int argc, char **argv);

#endif

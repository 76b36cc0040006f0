/* remove_tree against a tree someone swaps under it: a directory exchanged
 * with a symbolic link to a directory that must survive (the second
 * security review's attack on sandboxd's rm -rf as root). */
#include "remove-tree.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTSIDE_FILES 40

static char *tmp;

static void
make_files (const char *dir, int n)
{
  for (int i = 0; i < n; i++)
    {
      g_autofree char *f = g_strdup_printf ("%s/f%d", dir, i);
      g_assert_true (g_file_set_contents (f, "x", 1, NULL));
    }
}

static int
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

typedef struct
{
  int dir_fd;
  volatile gint stop;
} Swapper;

/* Exchanges tree/sub (a directory) and tree/link (a link to outside/) as
 * fast as it can, as a tenant's process would. */
static gpointer
swap_loop (gpointer data)
{
  Swapper *s = data;
  while (!g_atomic_int_get (&s->stop))
    if (renameat2 (s->dir_fd, "sub", s->dir_fd, "link", RENAME_EXCHANGE) < 0 && errno == ENOENT)
      g_thread_yield ();
  return NULL;
}

static void
test_swapped_link (void)
{
  g_autofree char *outside = g_build_filename (tmp, "outside", NULL);
  g_autofree char *tree = g_build_filename (tmp, "tree", NULL);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  make_files (outside, OUTSIDE_FILES);
  gint64 end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  int rounds = 0;
  while (g_get_monotonic_time () < end && count_entries (outside) == OUTSIDE_FILES)
    {
      g_autofree char *sub = g_build_filename (tree, "sub", NULL);
      g_autofree char *link = g_build_filename (tree, "link", NULL);
      g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
      make_files (sub, 20);
      g_assert_cmpint (symlink (outside, link), ==, 0);
      Swapper s = { .dir_fd = open (tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
      g_assert_cmpint (s.dir_fd, >=, 0);
      GThread *t = g_thread_new ("swap", swap_loop, &s);
      g_autoptr (GError) error = NULL;
      /* It may fail to remove what keeps changing; it must never follow. */
      if (!remove_tree (tree, &error))
        g_test_message ("round %d: %s", rounds, error->message);
      g_atomic_int_set (&s.stop, 1);
      g_thread_join (t);
      close (s.dir_fd);
      g_assert_true (remove_tree (tree, NULL));
      rounds++;
    }
  g_test_message ("%d rounds", rounds);
  g_assert_cmpint (count_entries (outside), ==, OUTSIDE_FILES);
  g_assert_true (remove_tree (outside, NULL));
}

static void
test_plain (void)
{
  g_autofree char *tree = g_build_filename (tmp, "plain", NULL);
  g_autofree char *deep = g_build_filename (tree, "a", "b", "c", NULL);
  g_assert_cmpint (g_mkdir_with_parents (deep, 0700), ==, 0);
  make_files (deep, 3);
  make_files (tree, 2);
  g_autofree char *fifo = g_build_filename (tree, "a", "fifo", NULL);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_autofree char *dangling = g_build_filename (tree, "a", "b", "dangling", NULL);
  g_assert_cmpint (symlink ("/nonexistent", dangling), ==, 0);
  /* A read-only directory is still emptied (root, or its owner). */
  g_assert_cmpint (chmod (deep, 0500), ==, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (remove_tree (tree, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (tree, G_FILE_TEST_EXISTS));
  g_assert_true (remove_tree (tree, NULL)); /* gone already: fine */
}

static void
test_link_at_top (void)
{
  g_autofree char *target = g_build_filename (tmp, "target", NULL);
  g_autofree char *link = g_build_filename (tmp, "top-link", NULL);
  g_assert_cmpint (g_mkdir (target, 0700), ==, 0);
  make_files (target, 5);
  g_assert_cmpint (symlink (target, link), ==, 0);
  g_assert_true (remove_tree (link, NULL));
  g_assert_false (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpint (count_entries (target), ==, 5);
  g_assert_true (remove_tree (target, NULL));
}

static void
test_too_deep (void)
{
  g_autofree char *tree = g_build_filename (tmp, "deep", NULL);
  GString *p = g_string_new (tree);
  for (int i = 0; i < REMOVE_TREE_MAX_DEPTH + 5; i++)
    g_string_append (p, "/d");
  g_assert_cmpint (g_mkdir_with_parents (p->str, 0700), ==, 0);
  g_string_free (p, TRUE);
  g_autoptr (GError) error = NULL;
  g_assert_false (remove_tree (tree, &error));
  g_assert_nonnull (strstr (error->message, "remove "));
  g_test_message ("%s", error->message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("remove-tree-XXXXXX", NULL);
  g_test_add_func ("/remove-tree/plain", test_plain);
  g_test_add_func ("/remove-tree/link-at-top", test_link_at_top);
  g_test_add_func ("/remove-tree/too-deep", test_too_deep);
  g_test_add_func ("/remove-tree/swapped-link", test_swapped_link);
  int rc = g_test_run ();
  char *argv_rm[] = { "rm", "-rf", tmp, NULL };
  g_spawn_sync (NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  return rc;
}

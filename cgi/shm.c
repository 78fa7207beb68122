/* shm.c - the supervisor/worker shared page, in a memfd. */
#define _GNU_SOURCE /* memfd_create */
#include "shm.h"

#include <sys/mman.h>
#include <unistd.h>

struct shm_page *shm_create(int *fd)
{
    void *p;

    *fd = memfd_create("clientes-shm", MFD_CLOEXEC);
    if (*fd < 0)
        return NULL;
    if (ftruncate(*fd, sizeof(struct shm_page)) != 0 || (p = shm_attach(*fd)) == NULL) {
        close(*fd);
        *fd = -1;
        return NULL;
    }
    return p;
}

struct shm_page *shm_attach(int fd)
{
    void *p = mmap(NULL, sizeof(struct shm_page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    return p == MAP_FAILED ? NULL : p;
}

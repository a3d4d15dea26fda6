/*
 * fcgi_hello — the ceiling of scripts/bench for any dynamic request: libfcgi in N
 * pre-forked single-threaded processes answering a fixed body, behind the same nginx.
 *   fcgi_hello SOCKET_PATH WORKERS BODY_BYTES
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fcgi_hello SOCKET WORKERS BODY_BYTES\n");
        return 2;
    }
    int workers = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    char *body = malloc(size + 1);
    memset(body, 'x', size);
    body[size] = '\0';
    unlink(argv[1]);
    FCGX_Init();
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    chmod(argv[1], 0666);
    for (int i = 0; i < workers; i++) {
        if (fork() == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            FCGX_Request req;
            FCGX_InitRequest(&req, fd, 0);
            while (FCGX_Accept_r(&req) >= 0) {
                /* libfcgi's own printf knows no %zu: format the header here. */
                char head[128];
                int n = snprintf(head, sizeof(head),
                                 "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", size);
                FCGX_PutStr(head, n, req.out);
                FCGX_PutStr(body, (int)size, req.out);
                FCGX_Finish_r(&req);
            }
            _exit(0);
        }
    }
    signal(SIGTERM, SIG_DFL);
    while (wait(NULL) > 0) {
    }
    return 0;
}

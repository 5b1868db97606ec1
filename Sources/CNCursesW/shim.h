// ncursesw for qmon's screen (Sources/Monitor/Draw only).
//
// NCURSES_WIDECHAR must be defined before curses.h: SwiftPM drops pkg-config -D flags, and
// without it the wide-character API (mvaddwstr, setcchar, ...) does not exist.
// Macros with casts and the global variables (stdscr, LINES, COLS, COLORS, ESCDELAY) do not
// import into Swift 6, so they are wrapped here.
#ifndef CELERIAC_CNCURSESW_SHIM_H
#define CELERIAC_CNCURSESW_SHIM_H

#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#include <sys/ioctl.h>
#include <unistd.h>

static inline attr_t qmon_A_NORMAL(void) { return A_NORMAL; }
static inline attr_t qmon_A_BOLD(void) { return A_BOLD; }
static inline attr_t qmon_A_DIM(void) { return A_DIM; }
static inline attr_t qmon_A_REVERSE(void) { return A_REVERSE; }
static inline attr_t qmon_A_UNDERLINE(void) { return A_UNDERLINE; }
static inline attr_t qmon_COLOR_PAIR(int n) { return (attr_t)COLOR_PAIR(n); }

static inline WINDOW *qmon_stdscr(void) { return stdscr; }
static inline int qmon_LINES(void) { return LINES; }
static inline int qmon_COLS(void) { return COLS; }
static inline int qmon_COLORS(void) { return COLORS; }
static inline void qmon_set_ESCDELAY(int ms) { set_escdelay(ms); }
static inline int qmon_KEY_F(int n) { return KEY_F(n); }

/// Sets the attributes of the whole window (no colour pair), for plain drawing.
static inline int qmon_attrset(WINDOW *w, attr_t a) { return wattrset(w, (int)a); }

/// Returns the terminal's "cup" (cursor addressing) capability, or NULL if absent: a terminal
/// without it (TERM=dumb) cannot show a dashboard.
static inline int qmon_has_cursor_addressing(void) {
    char *cup = tigetstr((char *)"cup");
    return cup != NULL && cup != (char *)-1;
}

/// The window size of a terminal file descriptor (TIOCGWINSZ, which Swift cannot call: ioctl
/// is variadic). Returns 0 on success.
static inline int qmon_window_size(int fd, int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}
#endif

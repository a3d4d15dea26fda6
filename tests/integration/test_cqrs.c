#include <criterion/criterion.h>
Test(todo, nothing) { cr_assert(1); }

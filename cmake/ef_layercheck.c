/* ef_layercheck.c: the empty program each layer library is linked into whole,
 * with its allowed layers only, so that a call into a forbidden layer fails to
 * link (CMakeLists.txt, ef_layercheck_<layer>). */
int main(void) { return 0; }

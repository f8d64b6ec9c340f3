// N:M masks by rank counting: the C++ kernel behind nmsat.algo.kernel (built with g++, loaded with ctypes).
//
// The array is viewed as x[pre][len][post]; groups are m consecutive positions along `len`. Within a
// group of r <= m real elements, element i is kept iff fewer than n elements beat it, where k beats i
// when |x_k| > |x_i|, or |x_k| == |x_i| and k < i. That is exactly nmsat.nm: the n largest |x|,
// ties to the lower index, and a ragged tail group (r < m) keeps min(n, r) of its real elements
// (padding never beats a real element). |x| is compared in registers; no |x| array is made.
// NaN magnitudes are not supported (the reference has no defined order for them).
// Also here: the transposable mask (greedy per m x m block, see nmsat.algo.transposable) and
// apply_mask (x where the mask is set, else 0).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#define NM_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__)  // AVX2 where the CPU has it (chosen at load time), else the baseline
#define NM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NM_CLONES
#endif

namespace {

constexpr int64_t kBlock = 64;  // columns (post positions) ranked together
constexpr int kMaxM = 256;

// Ranks `b` columns (b <= kBlock) of `rows` rows (row stride `stride` in x and mask) and writes the
// mask. Each pair (i < k) is compared once: k beats i iff |x_k| > |x_i|, else i beats k.
template <typename T, int M>
NM_INLINE void rank_block(const T* x, uint8_t* mask, int64_t stride, int64_t b, int rows, int n) {
    int32_t rank[M > 0 ? M : kMaxM][kBlock];
    for (int i = 0; i < rows; ++i)
        for (int64_t j = 0; j < b; ++j) rank[i][j] = 0;
    for (int i = 0; i < rows; ++i) {
        const T* xi = x + i * stride;
        for (int k = i + 1; k < rows; ++k) {
            const T* xk = x + k * stride;
            for (int64_t j = 0; j < b; ++j) {
                const int32_t c = std::fabs(xk[j]) > std::fabs(xi[j]);
                rank[i][j] += c;
                rank[k][j] += 1 - c;
            }
        }
    }
    for (int i = 0; i < rows; ++i) {
        uint8_t* mi = mask + i * stride;
        for (int64_t j = 0; j < b; ++j) mi[j] = rank[i][j] < n;
    }
}

// One group of r rows of `post` columns (row stride `post`), kBlock columns at a time.
template <typename T, int M>
NM_INLINE void group_rows(const T* x, uint8_t* mask, int64_t post, int r, int n) {
    for (int64_t j0 = 0; j0 < post; j0 += kBlock) {
        const int64_t b = post - j0 < kBlock ? post - j0 : kBlock;
        rank_block<T, M>(x + j0, mask + j0, post, b, r, n);
    }
}

// The `groups` full groups of one slab x[groups * M][post] whose rows are short (post < kBlock): the
// rows of kBlock / post whole groups are gathered side by side into one block (column c: group
// c / post, position c % post), ranked together, and scattered back.
template <typename T, int M>
NM_INLINE void slab_gathered(const T* x, uint8_t* mask, int64_t groups, int64_t post, int n) {
    T buf[M > 0 ? M : 1][kBlock];
    uint8_t mbuf[M > 0 ? M : 1][kBlock];
    const int64_t per_block = kBlock / post;
    for (int64_t g0 = 0; g0 < groups; g0 += per_block) {
        const int64_t count = groups - g0 < per_block ? groups - g0 : per_block;
        const T* xs = x + g0 * M * post;
        uint8_t* ms = mask + g0 * M * post;
        if (post == 1) {  // contiguous groups: a plain transpose in and out
            for (int64_t g = 0; g < count; ++g)
                for (int i = 0; i < M; ++i) buf[i][g] = xs[g * M + i];
        } else {
            for (int64_t g = 0; g < count; ++g)
                for (int i = 0; i < M; ++i)
                    for (int64_t j = 0; j < post; ++j) buf[i][g * post + j] = xs[(g * M + i) * post + j];
        }
        rank_block<T, M>(&buf[0][0], &mbuf[0][0], kBlock, count * post, M, n);
        if (post == 1) {
            for (int64_t g = 0; g < count; ++g)
                for (int i = 0; i < M; ++i) ms[g * M + i] = mbuf[i][g];
        } else {
            for (int64_t g = 0; g < count; ++g)
                for (int i = 0; i < M; ++i)
                    for (int64_t j = 0; j < post; ++j) ms[(g * M + i) * post + j] = mbuf[i][g * post + j];
        }
    }
}

template <typename T, int M>
NM_INLINE void nm_mask(const T* x, uint8_t* mask, int64_t pre, int64_t len, int64_t post, int n,
                       int m) {
    const int64_t slab = len * post;
    const bool gather = M > 0 && post < kBlock;
    for (int64_t p = 0; p < pre; ++p) {
        const int64_t full = gather ? len / m : 0;  // groups done by slab_gathered
        if (full) {
            const int64_t off = p * slab;
            slab_gathered<T, M>(x + off, mask + off, full, post, n);
        }
        for (int64_t g = full * m; g < len; g += m) {
            const int r = static_cast<int>(len - g < m ? len - g : m);
            const int64_t off = p * slab + g * post;
            group_rows<T, M>(x + off, mask + off, post, r, n);
        }
    }
}

template <typename T>
NM_INLINE void dispatch(const T* x, uint8_t* mask, int64_t pre, int64_t len, int64_t post, int n,
                        int m) {
    switch (m) {
        case 4: nm_mask<T, 4>(x, mask, pre, len, post, n, m); break;
        case 8: nm_mask<T, 8>(x, mask, pre, len, post, n, m); break;
        case 16: nm_mask<T, 16>(x, mask, pre, len, post, n, m); break;
        default: nm_mask<T, 0>(x, mask, pre, len, post, n, m);
    }
}

template <typename T>
NM_INLINE void apply(const T* x, const uint8_t* mask, T* out, int64_t count) {
    for (int64_t i = 0; i < count; ++i) out[i] = mask[i] ? x[i] : T(0);
}

// Transposable mask (Hubara et al. 2021, greedy 2-approximation) of one block of r x c weights at
// x[o * row + i * post] (o < r output rows, i < c input columns): visit by descending |x|, ties to the
// lower (row, column); keep while the row and the column each hold fewer than n.
NM_INLINE void transposable_block(const float* x, uint8_t* mask, int64_t row, int64_t post, int r, int c,
                                  int n) {
    uint64_t keys[kMaxM];
    int rows[16], cols[16];
    int count = 0;
    for (int o = 0; o < r; ++o) {
        for (int i = 0; i < c; ++i) {
            float a = std::fabs(x[o * row + i * post]);
            uint32_t bits;
            std::memcpy(&bits, &a, sizeof bits);  // |x| >= 0: its bits order like its value
            const uint32_t flat = static_cast<uint32_t>(o * c + i);
            keys[count++] = (static_cast<uint64_t>(bits) << 32) | (0xFFFFFFFFu - flat);
        }
    }
    std::sort(keys, keys + count, [](uint64_t a, uint64_t b) { return a > b; });
    for (int o = 0; o < r; ++o) rows[o] = 0;
    for (int i = 0; i < c; ++i) cols[i] = 0;
    for (int t = 0; t < count; ++t) {
        const int flat = static_cast<int>(0xFFFFFFFFu - static_cast<uint32_t>(keys[t]));
        const int o = flat / c, i = flat % c;
        const bool keep = rows[o] < n && cols[i] < n;
        mask[o * row + i * post] = keep;
        rows[o] += keep;
        cols[i] += keep;
    }
}

}  // namespace

extern "C" {

// Transposable n:m mask (0/1 bytes) of a float weight w[out][in][post], m <= 16: m x m blocks of
// (output, input) channels at each of the `post` kernel positions.
NM_CLONES void transposable_mask_f32(const float* w, uint8_t* mask, int64_t out, int64_t in, int64_t post, int n,
                                     int m) {
    const int64_t row = in * post;
    for (int64_t o0 = 0; o0 < out; o0 += m) {
        const int r = static_cast<int>(out - o0 < m ? out - o0 : m);
        for (int64_t i0 = 0; i0 < in; i0 += m) {
            const int c = static_cast<int>(in - i0 < m ? in - i0 : m);
            const int64_t off = o0 * row + i0 * post;
            for (int64_t k = 0; k < post; ++k) transposable_block(w + off + k, mask + off + k, row, post, r, c, n);
        }
    }
}


// Mask (0/1 bytes, x's layout) of n:m along the middle axis of x[pre][len][post] (m <= 256).
NM_CLONES void nm_mask_f32(const float* x, uint8_t* mask, int64_t pre, int64_t len, int64_t post,
                           int n, int m) {
    dispatch(x, mask, pre, len, post, n, m);
}

NM_CLONES void nm_mask_f64(const double* x, uint8_t* mask, int64_t pre, int64_t len,
                           int64_t post, int n, int m) {
    dispatch(x, mask, pre, len, post, n, m);
}

// out = x where mask, else 0 (count elements).
NM_CLONES void apply_mask_f32(const float* x, const uint8_t* mask, float* out, int64_t count) {
    apply(x, mask, out, count);
}

NM_CLONES void apply_mask_f64(const double* x, const uint8_t* mask, double* out, int64_t count) {
    apply(x, mask, out, count);
}

}

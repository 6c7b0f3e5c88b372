/* chunker.c - FastCDC content-defined chunking (see schema/chunker.h). */
#include <assert.h>

#include "schema/chunker.h"

/*
 * 256 random 64-bit constants: splitmix64 from the seed 0x736368656d61,
 * generated once and fixed here (never regenerate: see chunker.h).
 */
static const uint64_t gear[256] = {
	0x8e763f1555b90d42ULL, 0xe40a96a66be1217dULL,
	0x68c672a7ede5e0deULL, 0x96869e3dd17491e7ULL,
	0x5755b79d0e6a91bfULL, 0xcb53e4037c6dfc53ULL,
	0x336fa9b03a9b1bdeULL, 0x931ae4f44a510027ULL,
	0xe8fc7fa377f35c12ULL, 0x1e43c8aef49dff41ULL,
	0xe15001324724c678ULL, 0x5e230c51dbce9750ULL,
	0x1fbd28bd9caa58efULL, 0x4e61975fe6b640efULL,
	0x6f2ce5e7e2820666ULL, 0xf93e17ff37b68455ULL,
	0x9740e57da611bb33ULL, 0xf11faa34050b67fcULL,
	0xb5d0ad4e5df8e8e2ULL, 0xc330ca96fcc6b80bULL,
	0xee00ce1587a120edULL, 0x5abb3d0daa956595ULL,
	0xc1153fd59830e2fdULL, 0x8bf063120dfa2313ULL,
	0x263619f9a0e0657eULL, 0xc87496a1966e6ddbULL,
	0x17ca482049630c4cULL, 0x7192242f3c085015ULL,
	0x1321a7f21c8855a2ULL, 0x0927b61c6e0d58dfULL,
	0x2c6bc89a579ae637ULL, 0xa03e0da948091dd1ULL,
	0x9825ee00d261a3d1ULL, 0xbf9623936a69e307ULL,
	0x84186225893e8189ULL, 0xfcafcf408328a6f7ULL,
	0x43eceee7e5f4da17ULL, 0x319a9ae671415a73ULL,
	0x2b2e41f422e73d36ULL, 0x90c07e5046a60ad5ULL,
	0x07ede1545940d6d2ULL, 0x560c317098313d33ULL,
	0x292a55d702a1bce7ULL, 0xae28ba7f7a3afb38ULL,
	0x4293d109fac17c86ULL, 0xf5b9ec2adbf11867ULL,
	0x01bcce629374e478ULL, 0xb0f4abdd7a7c15deULL,
	0xa7c03ed1239a72c8ULL, 0xa46b041e4b29b413ULL,
	0xbb3b680b423b7a13ULL, 0x10009d12a4c2facfULL,
	0xf5a6e4f919b633a6ULL, 0x53870b1198660f91ULL,
	0x7048d5d8cd8dafedULL, 0x76464ccf133aad9dULL,
	0x94fa2f3afd52e99aULL, 0xe4d58b55e011d563ULL,
	0x289fd74ef848e2bbULL, 0xebbbaba266c0f443ULL,
	0x2a495a2a156b825dULL, 0xc6a562953ed7f470ULL,
	0x498c5aa99d8dba2cULL, 0x04d961021947c972ULL,
	0xd15f5adf90950207ULL, 0x146467ab3862fdd0ULL,
	0x9e949764822129b9ULL, 0xbaca2668bde6b398ULL,
	0xf264dc420f03797dULL, 0x4193f39104c19412ULL,
	0xb6570189fe44de7cULL, 0x374004ab9a75601fULL,
	0xfafdcc70773a7ee0ULL, 0x7b538a932b19da32ULL,
	0x73315c282dba1027ULL, 0x6a609572296e97f3ULL,
	0x1d78d0d3cc23db0aULL, 0x90c8f81d69a255beULL,
	0xd127663f89ccf428ULL, 0x2d45c5a84bf355b1ULL,
	0xac28d2f46dc03535ULL, 0x6f178edd542d8868ULL,
	0x2de0cee8ddfc395eULL, 0x18004d6a534655c2ULL,
	0x560dcac711918711ULL, 0xd2998cbb1a70b701ULL,
	0x6bdf9317528d12adULL, 0x09500839a2fdf699ULL,
	0xdb7cc0567fa4aec1ULL, 0x8472fd347543ab2bULL,
	0x874be61a1b860abaULL, 0x3fe6e791ff9c8247ULL,
	0x4ee5d49f0c14aec0ULL, 0x999ad7d4ab7be21bULL,
	0xf400977ca9aae694ULL, 0x0e8268cc0275e394ULL,
	0xf81dcad25d4b3756ULL, 0xd7af898f6ea53751ULL,
	0x030d398a466c470eULL, 0x21c225b3b7cf6294ULL,
	0x291d04beae56d3c0ULL, 0xd30554a0b55d1078ULL,
	0x8a7f6413f3b811a4ULL, 0x790ed24a68019452ULL,
	0xf6668cc7e6ec0e0cULL, 0xbdc2da0cd7590bf6ULL,
	0x94eccd0394936a1fULL, 0xd58c5ad13b7d05bfULL,
	0x75bb7adafa1cda84ULL, 0x78a9f2fb8e46ae27ULL,
	0x2158f72dba672ea5ULL, 0xb1592428e52c34d9ULL,
	0xbb2c1adacbaf8b38ULL, 0x8027e03d9601f1beULL,
	0x6779dce02ac9a6beULL, 0x10b4136e321b2a01ULL,
	0x7eddeeb0789ae9a7ULL, 0xfbaa427135eb90ccULL,
	0x280dbf00183b47a7ULL, 0xfc3b72628023fffbULL,
	0x96b0f288bebc132cULL, 0x941ba490d20929eeULL,
	0xdc2302415bce3bebULL, 0x778ffb9b44002fb7ULL,
	0x260b1cb15f609372ULL, 0x1cfa2cbd507cebd8ULL,
	0xa715c0a3fb4d8ad8ULL, 0xefca0b2887f1fd33ULL,
	0x9575c2f6dda5304cULL, 0x45ccdd9dd6bdc333ULL,
	0x8ae3ecb1c3f7bf93ULL, 0xf5ec1c23fd9c7b98ULL,
	0x8066a253bb970ab5ULL, 0x7dc6eb0a153b4398ULL,
	0xfbf2afd34c9d1a95ULL, 0xe34a568ec59762e7ULL,
	0xc4f57d3f4434ea20ULL, 0x9e44ce463aec0287ULL,
	0xb1eb218cf48e4619ULL, 0x007cd966eedb4aafULL,
	0xc40135818b657f0dULL, 0x72ed7bddbcf65809ULL,
	0xa228b88c342b9638ULL, 0x809cc6fe9bcd5b07ULL,
	0x3884d3066ec0d1a2ULL, 0x9b232e08936f6ab0ULL,
	0xb12d52758c091ed1ULL, 0xa8f0b9667129f9f5ULL,
	0xe0d5faf607d52701ULL, 0x2d1ee043cdcdcbd5ULL,
	0xf2a183dc42436d68ULL, 0x9ba86999b1f0278bULL,
	0x84b42020e2bddbebULL, 0xa4c6f10f74ad7912ULL,
	0x76019742d02588a7ULL, 0x35f78b4c4a6086f7ULL,
	0x495c1b5b0a01cb50ULL, 0xa748099bb232b9f8ULL,
	0x2652c5f942584ebdULL, 0x48db063430cc37dbULL,
	0x79b2d4febf984543ULL, 0xaf2cbad725c062c3ULL,
	0xb65a932e2ea6828eULL, 0xe746334c9b146260ULL,
	0x829061942a7be6d5ULL, 0x0bf17fa3d13080a9ULL,
	0x934efd8bc3ad7919ULL, 0xdf5e8b2860d7f265ULL,
	0x97648488662f92d7ULL, 0xe961186dd16d5147ULL,
	0x79440ac5b2b5cd81ULL, 0xb3971b7a63dce114ULL,
	0x981688b6d6626264ULL, 0xe462800a3fb5fd85ULL,
	0xd9b16d7b5260df62ULL, 0x3fcd3435025be7fcULL,
	0xf91473ce509592b7ULL, 0xb1e6dc6920dcf4f9ULL,
	0xe8c53ef3d22d7b62ULL, 0xddce80b421371adeULL,
	0xeeed4dc4c5ff1b4dULL, 0xfb9f71bb457a7683ULL,
	0xce3726a4e5e6b301ULL, 0x32c24dd9c33f0b80ULL,
	0xa916b6b3cdd9ae5dULL, 0x524cae3611cd74e3ULL,
	0x19819208d976fac2ULL, 0x82950598098da0b8ULL,
	0x0b22221d88f15680ULL, 0x97d587011a3f2804ULL,
	0xc1a270aa4c375c26ULL, 0x098b0595456d99a4ULL,
	0x84f0e6c08cd0e00fULL, 0x0a815eb4b2802f39ULL,
	0xb177e682287d6349ULL, 0x4ec85dc96cf1d86aULL,
	0x07b532c6cbfdd00bULL, 0xb7e4df8712c60c58ULL,
	0x8785861a5adcfd9aULL, 0x3803ecfb56171e4dULL,
	0xa8bd7cccf136bf11ULL, 0xd2270f5dfbea90a9ULL,
	0x96ce9447148aaed3ULL, 0x9f3b0e6e970999c9ULL,
	0x26942268c324cc0aULL, 0x396874201be72db7ULL,
	0x0dabe9d939023b31ULL, 0xe865fe87c7b75f24ULL,
	0xc0156d5cd24cc5c5ULL, 0x6b9c03cf234b9712ULL,
	0x07f93208118c8f81ULL, 0xe49d61f775c43528ULL,
	0xd4adbc7f3944587eULL, 0x511e4f0808c0e6c7ULL,
	0xca73a33c7d30f588ULL, 0xc20eb5fa0e5f69a8ULL,
	0x4e4fa54fd7f63132ULL, 0x7edf4669b5fda200ULL,
	0xcc1b07b42b19edc9ULL, 0x9c6134f9b4fb5e9bULL,
	0xc456ecaedd7c9158ULL, 0x5a3dce101b7cbe63ULL,
	0x34a108c16c1c9297ULL, 0x31541bb5859a9dd1ULL,
	0xf8e7be663faab75eULL, 0x9f819b3e6297f0b9ULL,
	0x7af007b71494b676ULL, 0xdb25f40bb62bbf12ULL,
	0xff6804e49594cfdcULL, 0xa7d966b454872127ULL,
	0xc20d8f0ecee4fbb2ULL, 0x1f9b47050dae4dc3ULL,
	0x2a0f2b77fbfb0360ULL, 0x4a6269a06c2083a8ULL,
	0xdddf0fe3b235061dULL, 0x4c4d2009ba07a20fULL,
	0x07978b487b79cdeaULL, 0xad1a990e987ce9adULL,
	0x661083fd2ac46fa7ULL, 0xda886790558dd1acULL,
	0xf20358f917bf58cbULL, 0xa37fece4971067a7ULL,
	0x2244913d3e653c5cULL, 0xbfae1ef56e5af9a4ULL,
	0xb404127bcc557085ULL, 0xb55143f3f5bd7e32ULL,
	0x9033ea6085801436ULL, 0xf23f197ea93c87f0ULL,
	0x548d1182f969d01bULL, 0x7d1505ce21d0258dULL,
	0x0fafb4e9c2286e2bULL, 0xe8a49372008fdb24ULL,
	0xb7ab2f3690bf4f87ULL, 0x9ebbfbf53bbee34dULL,
	0xe141fcb559aae3cfULL, 0xde6ea16f38aba430ULL,
};

/* The `bits` top bits set: with h = (h << 1) + gear[b], the top bits mix
 * the last 64 bytes, the low bits only the last few. */
static uint64_t top_mask(unsigned bits)
{
	return bits ? ~(uint64_t)0 << (64 - bits) : 0;
}

void sch_chunker_init(struct sch_chunker *c, size_t avg)
{
	unsigned bits = 0;

	if (!avg)
		avg = SCH_CHUNK_AVG_DEFAULT;
	if (avg < SCH_CHUNK_AVG_MIN)
		avg = SCH_CHUNK_AVG_MIN;
	if (avg > SCH_CHUNK_AVG_MAX)
		avg = SCH_CHUNK_AVG_MAX;
	/* the nearest power of two: 2^bits <= avg < 2^(bits+1) */
	while (((size_t)2 << bits) <= avg)
		bits++;
	if (avg - ((size_t)1 << bits) >= ((size_t)1 << bits) / 2)
		bits++;
	c->avg = (size_t)1 << bits;
	c->min = c->avg / 4;
	c->max = c->avg * 4;
	c->mask_s = top_mask(bits + 2);
	c->mask_l = top_mask(bits - 2);
	sch_chunker_reset(c);
}

void sch_chunker_reset(struct sch_chunker *c)
{
	c->pos = 0;
	c->h = 0;
}

int sch_chunker_feed(struct sch_chunker *c, const void *data, size_t len,
		     size_t *cut)
{
	const unsigned char *p = data;
	size_t i = 0, n;
	uint64_t h = c->h;

	if (c->pos < c->min) {
		/* the minimum size is never cut: skip it unhashed */
		size_t skip = c->min - c->pos;
		if (skip > len)
			skip = len;
		c->pos += skip;
		i = skip;
	}
	/* up to avg: the strict mask */
	if (c->pos < c->avg && i < len) {
		n = c->avg - c->pos;
		if (n > len - i)
			n = len - i;
		for (size_t end = i + n; i < end; i++) {
			h = (h << 1) + gear[p[i]];
			if (!(h & c->mask_s)) {
				c->pos += n - (end - i - 1);
				goto found;
			}
		}
		c->pos += n;
	}
	/* from avg to max: the loose mask, then a forced cut at max */
	if (c->pos >= c->avg && i < len) {
		n = c->max - c->pos;
		if (n > len - i)
			n = len - i;
		for (size_t end = i + n; i < end; i++) {
			h = (h << 1) + gear[p[i]];
			if (!(h & c->mask_l)) {
				c->pos += n - (end - i - 1);
				goto found;
			}
		}
		c->pos += n;
		if (c->pos == c->max)
			goto found_at_i;
	}
	c->h = h;
	assert(c->pos <= c->max);
	return 0;
found:
	i++;
found_at_i:
	assert(c->pos >= c->min && c->pos <= c->max);
	*cut = i;
	sch_chunker_reset(c);
	return 1;
}

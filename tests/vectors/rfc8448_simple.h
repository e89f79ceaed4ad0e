/* RFC 8448 3 ("Simple 1-RTT Handshake"): the inputs and intermediate values
 * of a full TLS 1.3 handshake with TLS_AES_128_GCM_SHA256 and X25519, as
 * hex.  Handshake messages include their 4-byte header. */
#ifndef MOAT_VECTORS_RFC8448_SIMPLE_H
#define MOAT_VECTORS_RFC8448_SIMPLE_H

/* {client} create an ephemeral x25519 key pair */
static const char rfc8448_client_priv[] =
    "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005";
static const char rfc8448_client_pub[] =
    "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c";
/* {server} create an ephemeral x25519 key pair */
static const char rfc8448_server_priv[] =
    "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e";
static const char rfc8448_server_pub[] =
    "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f";
/* {server} extract secret "handshake": IKM (the (EC)DHE shared secret) */
static const char rfc8448_shared[] =
    "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d";

/* {client} construct a ClientHello handshake message (196 octets) */
static const char rfc8448_client_hello[] =
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef"
    "6283024dece7000006130113031302010000910000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e"
    "51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "00024001";
/* {server} construct a ServerHello handshake message (90 octets) */
static const char rfc8448_server_hello[] =
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155"
    "772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdb"
    "f7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
/* {server} EncryptedExtensions, Certificate, CertificateVerify */
static const char rfc8448_encrypted_extensions[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c"
    "0002400100000000";
static const char rfc8448_certificate[] =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a"
    "864886f70d01010b0500300e310c300a06035504031303727361301e170d3136"
    "303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d00"
    "30818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
    "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda4308467480"
    "30530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a"
    "8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
    "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a5"
    "8c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0"
    "a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000";
static const char rfc8448_certificate_verify[] =
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145a"
    "b3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248ee"
    "aaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c"
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea2"
    "0d53dfacd42f74f3";
/* {server} and {client} Finished messages */
static const char rfc8448_server_finished[] =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454"
    "b78f0718";
static const char rfc8448_client_finished[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2"
    "edd5ce61";

/* The key schedule */
static const char rfc8448_early_secret[] =
    "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a";
static const char rfc8448_derived_for_handshake[] =
    "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba";
static const char rfc8448_handshake_secret[] =
    "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac";
static const char rfc8448_c_hs_traffic[] =
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char rfc8448_s_hs_traffic[] =
    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
static const char rfc8448_master_secret[] =
    "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919";
static const char rfc8448_c_ap_traffic[] =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
static const char rfc8448_s_ap_traffic[] =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
static const char rfc8448_exporter[] =
    "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50";
static const char rfc8448_resumption[] =
    "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c";

/* Traffic keys and IVs */
static const char rfc8448_s_hs_key[] = "3fce516009c21727d0f2e4e86ee403bc";
static const char rfc8448_s_hs_iv[] = "5d313eb2671276ee13000b30";
static const char rfc8448_c_hs_key[] = "dbfaa693d1762c5b666af5d950258d01";
static const char rfc8448_c_hs_iv[] = "5bd3c71b836e0b76bb73265f";
static const char rfc8448_s_ap_key[] = "9f02283b6c9c07efc26bb9f2ac92e356";
static const char rfc8448_s_ap_iv[] = "cf782b88dd83549aadf1e984";
static const char rfc8448_c_ap_key[] = "17422dda596ed5d9acd890e3c63f5051";
static const char rfc8448_c_ap_iv[] = "5b78923dee08579033e523d9";

/* Protected records.  {client} send handshake record: the client's
 * Finished under the client handshake key, sequence 0. */
static const char rfc8448_client_finished_record[] =
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc"
    "44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546";
/* {server} send application_data record: octets 0x00..0x31 under the
 * server application key, sequence 1 (the NewSessionTicket was 0). */
static const char rfc8448_server_app_record[] =
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36"
    "e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf33254"
    "0dd032e167c2955d";
/* {client} send application_data record: the same 50 octets under the
 * client application key, sequence 0. */
static const char rfc8448_client_app_record[] =
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
    "2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
    "3aeebb21694915e4";

#endif

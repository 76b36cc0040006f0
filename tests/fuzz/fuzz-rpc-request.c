/* libFuzzer: any bytes a client sends as a sandbox.v1 request. */
#include "rpc-envelope.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  RpcRequest req;
  g_autoptr (GError) error = NULL;
  if (rpc_request_decode ((const char *) data, size, &req, &error))
    g_assert (req.method != NULL && req.params != NULL);
  else
    g_assert (error != NULL && error->code == RPC_STATUS_INVALID_ARGUMENT);
  gsize len;
  g_autofree char *reply = rpc_response_encode (req.has_id, req.id,
                                                error ? RPC_STATUS_INVALID_ARGUMENT : RPC_STATUS_OK,
                                                error ? error->message : NULL, NULL, &len);
  rpc_request_clear (&req);
  return 0;
}

"""An original-style ESKIT v1 client (Python, grpcio, stubs generated from proto-compat/ by grpc_tools.protoc), run by
compat-v1-python.e2e.spec.ts against the real services: it proves a non-Node gRPC stack can use the v1 contracts.
Usage: v1_client.py <stubs dir> <event store host:port> <crud store host:port>; prints one "key value" line per check."""
import sys

sys.path.insert(0, sys.argv.pop(1))
import threading, time, grpc, uuid
from contracts.common import originator_pb2 as o
from contracts.eventstore import event_pb2 as e, service_pb2_grpc as es
from contracts.crudstore import service_pb2 as cs, service_pb2_grpc as csg, schema_pb2 as sc
from contracts.consumerstore import service_pb2 as co, service_pb2_grpc as cog
ES, CS = sys.argv[1], sys.argv[2]
ch = grpc.insecure_channel(ES); st = es.EventstoreServiceStub(ch); cons = cog.ConsumerServiceStub(ch)
print("healtz", st.Healtz(e.HealthRequest()).message)
oid = "py-" + uuid.uuid4().hex[:8]
st.Append(e.AppendEventRequest(event=e.Event(originator=o.Originator(id=oid, version="1"), event_type="PyUser.Created", payload='{"n":1}', occured_on=1700000000)))
st.Append(e.AppendEventRequest(event=e.Event(originator=o.Originator(id=oid, version="2"), event_type="PyUser.Renamed", payload='{"n":2}')))
evs = st.GetEvents(e.GetEventsRequest(originator=o.Originator(id=oid))).events
print("events", [(x.originator.version, x.event_type, x.payload, x.occured_on) for x in evs])
try:
    st.Append(e.AppendEventRequest(event=e.Event(originator=o.Originator(id=oid, version="2"), event_type="PyUser.Renamed", payload='{}')))
except grpc.RpcError as err: print("dup", err.code())
logs = st.Logs(e.AppLogRequest(selector="PyUser.*")).results
print("logs", len(logs) >= 2, logs[-1].event.originator.id == oid)
cons.LogConsume(co.AppLogConsumeRequest(consumer_id="py", offset=logs[0].id))
print("offset", cons.GetLogConsume(co.GetAppLogConsumeRequest(consumer_id="py")).offset == logs[0].id)
# LogsPoll: catch-up then live
got = []
stream = st.LogsPoll(e.AppLogRequest(from_id=logs[0].id, selector="PyUser.*"))
def reader():
    try:
        for entry in stream:
            got.append(entry.event.payload)
            if len(got) == 3: stream.cancel()
    except grpc.RpcError: pass
t = threading.Thread(target=reader); t.start(); time.sleep(0.5)
st.Append(e.AppendEventRequest(event=e.Event(originator=o.Originator(id=oid, version="3"), event_type="PyUser.Renamed", payload='{"n":3}')))
t.join(5); print("poll", got)
c = csg.CrudStoreServiceStub(grpc.insecure_channel(CS))
print("crud healtz", c.Healtz(cs.HealthRequest()).message)
t_ = "py.Thing" + uuid.uuid4().hex[:6]
c.RegisterType(cs.RegisterTypeRequest(spec=sc.CrudEntitySpec(entity_type=t_, schema_spec=sc.SchemaSpec(schema_version=1, json_schema='{"type":"object"}'))))
try: c.RegisterType(cs.RegisterTypeRequest(spec=sc.CrudEntitySpec(entity_type=t_)))
except grpc.RpcError as err: print("dup type", err.code())
r = c.Create(cs.CreateRequest(entity_type=t_, payload='{"a":1}')); did = r.originator.id; print("created", r.originator.version)
u = c.Update(cs.UpdateRequest(entity_type=t_, originator=o.Originator(id=did, version="1"), payload='{"a":2}')); print("updated", u.originator.version)
try: c.Update(cs.UpdateRequest(entity_type=t_, originator=o.Originator(id=did, version="1"), payload='{"a":3}'))
except grpc.RpcError as err: print("stale", err.code())
print("get v1", c.Get(cs.GetRequest(entity_type=t_, originator=o.Originator(id=did, version="1"))).payload)
print("get latest", c.Get(cs.GetRequest(entity_type=t_, originator=o.Originator(id=did))).payload)
print("list", [x.originator.id == did for x in c.List(cs.ListRequest(entity_type=t_)).results])
c.Delete(cs.DeleteRequest(entity_type=t_, originator=o.Originator(id=did)))
try: c.Get(cs.GetRequest(entity_type=t_, originator=o.Originator(id=did)))
except grpc.RpcError as err: print("deleted get", err.code())
print("deleted=true", c.Get(cs.GetRequest(entity_type=t_, originator=o.Originator(id=did), deleted=True)).payload)
print("types", [x.entity_type for x in c.ListTypes(cs.ListTypesRequest()).results if x.entity_type == t_])

import json


def loads_or_text(payload):
    """The JSON object of a response, or {"detail": text} when it is not JSON."""
    try:
        doc = json.loads(payload)
        return doc if isinstance(doc, dict) else {"detail": payload}
    except ValueError:
        return {"detail": payload}

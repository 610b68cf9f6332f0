"""COS-style errors: one exception type, one table of codes, one XML renderer.

Every handler raises :class:`CosError`; the application turns it into
``<Error><Code/><Message/><Resource/><RequestId/><TraceId/></Error>`` with the
status from :data:`STATUS`.
"""

from __future__ import annotations

import binascii
import itertools
import os
import time
from xml.sax.saxutils import escape

# code -> (HTTP status, default message)
STATUS: dict[str, tuple[int, str]] = {
    "AccessDenied": (403, "Access Denied."),
    "AccessForbidden": (403, "CORSResponse: This CORS request is not allowed."),
    "BadRequest": (400, "Bad Request."),
    "BadDigest": (400, "The Content-MD5 or checksum you specified did not match what was received."),
    "BucketAlreadyExists": (409, "The requested bucket name already exists."),
    "BucketAlreadyOwnedByYou": (409, "The bucket you tried to create already exists and you own it."),
    "BucketNotEmpty": (409, "The bucket you tried to delete is not empty."),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed object size."),
    "EntityTooSmall": (400, "Your proposed upload is smaller than the minimum allowed object size."),
    "ExpiredToken": (400, "The provided token has expired."),
    "IncompleteBody": (400, "You did not provide the number of bytes specified by the Content-Length header."),
    "InsufficientStorage": (507, "There is not enough space left on the server's disk to store this request; "
                                 "nothing was stored."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidAccessKeyId": (403, "The access key Id you provided does not exist in our records."),
    "InvalidArgument": (400, "Invalid argument."),
    "InvalidBucketName": (400, "The specified bucket name is not valid."),
    "InvalidDigest": (400, "The Content-MD5 you specified is not valid."),
    "InvalidImageFormat": (400, "The image format is not supported."),
    "InvalidObjectName": (400, "The specified object key is not valid."),
    "InvalidPart": (400, "One or more of the specified parts could not be found."),
    "InvalidPartOrder": (400, "The list of parts was not in ascending order."),
    "InvalidRange": (416, "The requested range is not satisfiable."),
    "InvalidRequest": (400, "Invalid request."),
    "InvalidToken": (400, "The provided token is malformed or otherwise invalid."),
    "InvalidURI": (400, "Couldn't parse the specified URI."),
    "KeyTooLong": (400, "Your key is too long."),
    "MalformedXML": (400, "The XML you provided was not well-formed or did not validate against our published schema."),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "MissingContentLength": (411, "You must provide the Content-Length HTTP header."),
    "MissingSecurityHeader": (400, "Your request was missing a required header."),
    "NoSuchBucket": (404, "The specified bucket does not exist."),
    "NoSuchCORSConfiguration": (404, "The CORS configuration does not exist."),
    "NoSuchCIBucket": (404, "The specified bucket is not bound to Cloud Infinite."),
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchUpload": (404, "The specified multipart upload does not exist."),
    "NoSuchTagSet": (404, "There is no tag set associated with the bucket."),
    "NoSuchBucketPolicy": (404, "The bucket policy does not exist."),
    "NoSuchVersion": (404, "The specified version does not exist."),
    "InvalidTag": (400, "The tag provided was not a valid tag."),
    "MalformedPolicy": (400, "The policy is not valid."),
    "MalformedPOSTRequest": (400, "The body of your POST request is not well-formed multipart/form-data."),
    "PositionNotEqualToLength": (409, "The position is not equal to the current length of the object."),
    "ObjectNotAppendable": (409, "This object is not appendable."),
    "NotImplemented": (501, "A header or parameter you provided implies functionality that is not implemented."),
    "NotModified": (304, "Not Modified."),
    "PreconditionFailed": (412, "At least one of the preconditions you specified did not hold."),
    "RequestTimeTooSkewed": (403, "The difference between the request time and the server's time is too large."),
    "RequestTimeout": (400, "Your socket connection to the server was not read from or written to within the timeout period."),
    "SignatureDoesNotMatch": (403, "The request signature we calculated does not match the signature you provided."),
    "SlowDown": (503, "Please reduce your request rate."),
    "ServiceUnavailable": (503, "Service is unavailable, please try again."),
    # Cloud Infinite
    "AIRecognitionNotEnabled": (403, "AI content recognition is not enabled for this bucket."),
    "DetectUrlFetchFailed": (400, "The detect-url image could not be downloaded."),
    "DetectUrlForbidden": (403, "The detect-url points to an address this server does not fetch from."),
    "FaceBeautifyFailed": (400, "Face beautification failed for this image."),
    "ImageTooLarge": (400, "The image exceeds the processing limits."),
    "UndecodableImage": (400, "The image could not be decoded."),
}


class CosError(Exception):
    """An error answered to the client as COS XML."""

    def __init__(self, code: str, message: str | None = None, *, status: int | None = None,
                 resource: str = "", headers: dict[str, str] | None = None) -> None:
        default_status, default_message = STATUS.get(code, (400, code))
        self.code = code
        self.message = message or default_message
        self.status = status or default_status
        self.resource = resource
        self.headers = headers or {}
        super().__init__(f"{code}: {self.message}")


_counter = itertools.count()
_node = os.urandom(3).hex()


def new_request_id() -> str:
    """A unique, COS-looking request id (base64 of time, node and counter)."""
    raw = f"{int(time.time() * 1000):x}_{_node}_{next(_counter):x}".encode()
    return binascii.b2a_base64(raw, newline=False).decode()     # base64.b64encode, one call fewer


def error_xml(err: CosError, request_id: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error>"
        f"<Code>{escape(err.code)}</Code>"
        f"<Message>{escape(err.message)}</Message>"
        f"<Resource>{escape(err.resource)}</Resource>"
        f"<RequestId>{escape(request_id)}</RequestId>"
        f"<TraceId>{escape(request_id)}</TraceId>"
        "</Error>"
    ).encode()

"""The Swift fixture itself: both of its APIs store and return bytes, and
each sees what the other wrote (an S3 bucket is a Swift container)."""
import hashlib
import os
import uuid

import pytest


@pytest.fixture
def container(swift_server):
    name = f'fixture-{uuid.uuid4().hex[:12]}'
    connection = swift_server.connection()
    connection.put_container(name)
    yield name
    for entry in connection.get_container(name, full_listing=True)[1]:
        connection.delete_object(name, entry['name'])
    connection.delete_container(name)
    connection.close()


def test_swift_api_put_and_get(swift_server, container):
    data = os.urandom(3 * 1024 * 1024 + 17)
    connection = swift_server.connection()
    etag = connection.put_object(container, 'blob', data)
    assert etag == hashlib.md5(data).hexdigest()
    headers, body = connection.get_object(container, 'blob')
    assert body == data
    assert int(headers['content-length']) == len(data)
    connection.close()


def test_s3_api_put_get_and_range(swift_server, container):
    data = os.urandom(1024 * 1024 + 5)
    s3 = swift_server.s3_client()
    s3.put_object(Bucket=container, Key='dir/blob', Body=data)
    assert s3.get_object(Bucket=container, Key='dir/blob')[
        'Body'].read() == data
    ranged = s3.get_object(Bucket=container, Key='dir/blob',
                           Range='bytes=1000-1999')
    assert ranged['ContentRange'] == f'bytes 1000-1999/{len(data)}'
    assert ranged['Body'].read() == data[1000:2000]
    # The same object through the Swift API.
    _headers, body = swift_server.connection().get_object(container,
                                                          'dir/blob')
    assert body == data


def test_s3_api_buckets_and_multipart(swift_server):
    s3 = swift_server.s3_client()
    bucket = f'fixture-mpu-{uuid.uuid4().hex[:8]}'
    s3.create_bucket(Bucket=bucket)
    try:
        assert bucket in [b['Name'] for b in s3.list_buckets()['Buckets']]
        parts = [os.urandom(5 * 1024 * 1024), os.urandom(1234)]
        upload = s3.create_multipart_upload(Bucket=bucket, Key='big')
        done = []
        for number, part in enumerate(parts, 1):
            answer = s3.upload_part(Bucket=bucket, Key='big',
                                    UploadId=upload['UploadId'],
                                    PartNumber=number, Body=part)
            done.append({'PartNumber': number, 'ETag': answer['ETag']})
        listed = s3.list_multipart_uploads(Bucket=bucket, Prefix='big')
        assert [u['UploadId'] for u in listed.get('Uploads', [])] == [
            upload['UploadId']]
        s3.complete_multipart_upload(
            Bucket=bucket, Key='big', UploadId=upload['UploadId'],
            MultipartUpload={'Parts': done})
        body = s3.get_object(Bucket=bucket, Key='big')['Body'].read()
        assert body == b''.join(parts)
        assert not s3.list_multipart_uploads(
            Bucket=bucket, Prefix='big').get('Uploads')
        # Deleting the object deletes its segments at once (no expirer).
        connection = swift_server.connection()
        assert connection.get_container(bucket + '+segments')[1]
        s3.delete_object(Bucket=bucket, Key='big')
        assert connection.get_container(bucket + '+segments')[1] == []
        connection.delete_container(bucket + '+segments')
    finally:
        for entry in s3.list_objects_v2(Bucket=bucket).get('Contents', []):
            s3.delete_object(Bucket=bucket, Key=entry['Key'])
        s3.delete_bucket(Bucket=bucket)


def test_wrong_key_is_refused(swift_server):
    from botocore.exceptions import ClientError
    from swiftclient.exceptions import ClientException
    with pytest.raises(ClientException) as raised:
        swift_server.connection(key='wrong').head_account()
    assert raised.value.http_status == 401
    with pytest.raises(ClientError) as raised:
        swift_server.s3_client(secret_key='wrong').list_buckets()
    assert raised.value.response['Error']['Code'] == 'SignatureDoesNotMatch'
